// Numbers as Python and pandas print them, for CSV files that must be byte-identical to what
// scone_tools writes: `"%.3f" % x` (pandas' float_format="%.3f") and repr(x) (pandas' default for
// float64 columns). NaN is pandas' na_rep, the empty string.

/** Python's `"%.d" % x` for `digits` decimals: exact decimal rounding, ties to even, sign of -0 kept. */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return "";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let s: string;
  if (a >= 1e21) {
    // an integer: toFixed switches to exponent notation here
    s = BigInt(a).toString() + (digits ? "." + "0".repeat(digits) : "");
  } else {
    s = a.toFixed(digits);
    // toFixed rounds an exact tie up, Python to even. A binary double is a tie at d decimals only
    // when a * 10^d * 2 is an odd integer; checked exactly with BigInt arithmetic on the bits.
    if (isTie(a, digits)) {
      const units = BigInt(a.toFixed(digits).replace(".", ""));
      if (units % 2n === 1n) s = withPoint((units - 1n).toString(), digits);
    }
  }
  return neg ? "-" + s : s;
}

function withPoint(units: string, digits: number): string {
  if (!digits) return units;
  const u = units.padStart(digits + 1, "0");
  return u.slice(0, u.length - digits) + "." + u.slice(u.length - digits);
}

/** True when a (finite, >= 0) lies exactly halfway between two multiples of 10^-digits. */
function isTie(a: number, digits: number): boolean {
  // a = m * 2^e exactly; 2 * a * 10^d = m * 2^(e+1) * 10^d must be an odd integer
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, a);
  const bits = buf.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let m = bits & ((1n << 52n) - 1n);
  let e: number;
  if (expBits === 0) e = -1074;
  else { m |= 1n << 52n; e = expBits - 1075; }
  if (m === 0n) return false;
  let num = m * 2n * 10n ** BigInt(digits);
  let den = 1n;
  if (e >= 0) num <<= BigInt(e); else den <<= BigInt(-e);
  return num % den === 0n && (num / den) % 2n === 1n;
}

/** Python's repr(x) of a float (shortest round-trip digits; exponent form below 1e-4 and from 1e16). */
export function pyRepr(x: number): string {
  if (Number.isNaN(x)) return "";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expStr] = Math.abs(x).toExponential().split("e");
  const digits = mant.replace(".", "");
  const e = Number(expStr);
  const sign = x < 0 ? "-" : "";
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
    return `${sign}${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  if (e < 0) return `${sign}0.${"0".repeat(-e - 1)}${digits}`;
  const int = digits.slice(0, e + 1).padEnd(e + 1, "0");
  const frac = digits.slice(e + 1);
  return `${sign}${int}.${frac || "0"}`;
}
