// The floor of the two exact medians of the SCONE summary columns (median_flux, snr_median), in
// compiled C++: std::nth_element (introselect, the selection np.median/np.partition use), as numpy
// takes a median: the k-th value, and for an even count the largest value below it too.
// Input: the raw float64 planes that bench/median-floor.mjs dumps (flux, then flux_err, per image).
//   g++ -O3 -march=native -o /tmp/median-floor bench/median-floor.cc && /tmp/median-floor FILE NW NT
// Prints µs per image: each median alone, both, and a pass that only copies the values (the copy
// any in-place selection needs to keep the image), minimum and median over rounds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

static double median_inplace(double* a, size_t n) {
  if (n == 0) return 0;
  size_t k = n / 2;
  std::nth_element(a, a + k, a + n);
  double hi = a[k];
  if (n % 2) return hi;
  double lo = *std::max_element(a, a + k);
  return (lo + hi) / 2;
}

int main(int argc, char** argv) {
  if (argc < 4) { fprintf(stderr, "usage: median-floor FILE NW NT [ROUNDS]\n"); return 2; }
  FILE* f = fopen(argv[1], "rb");
  size_t nw = atoi(argv[2]), nt = atoi(argv[3]), rounds = argc > 4 ? atoi(argv[4]) : 15, n = nw * nt;
  std::vector<double> all;
  double buf[4096];
  size_t got;
  while ((got = fread(buf, 8, 4096, f)) > 0) all.insert(all.end(), buf, buf + got);
  size_t images = all.size() / (2 * n);
  std::vector<double> work(n);
  volatile double sink = 0;
  using clk = std::chrono::steady_clock;
  std::vector<double> tFlux, tSnr, tCopy;
  for (size_t r = 0; r < rounds; r++) {
    auto t0 = clk::now();
    for (size_t i = 0; i < images; i++) {
      const double* flux = &all[2 * n * i];
      std::copy(flux, flux + n, work.begin());
      sink = sink + work[i % n];
    }
    auto t1 = clk::now();
    for (size_t i = 0; i < images; i++) {
      const double* flux = &all[2 * n * i];
      std::copy(flux, flux + n, work.begin());
      sink = sink + median_inplace(work.data(), n);
    }
    auto t2 = clk::now();
    for (size_t i = 0; i < images; i++) {
      const double* flux = &all[2 * n * i];
      const double* err = flux + n;
      size_t m = 0;
      for (size_t j = 0; j < n; j++) {
        double s = err[j] > 0 ? flux[j] / err[j] : 0;
        if (s > 0) work[m++] = s;
      }
      sink = sink + median_inplace(work.data(), m);
    }
    auto t3 = clk::now();
    auto us = [&](clk::time_point a, clk::time_point b) { return std::chrono::duration<double, std::micro>(b - a).count() / images; };
    tCopy.push_back(us(t0, t1));
    tFlux.push_back(us(t1, t2));
    tSnr.push_back(us(t2, t3));
  }
  auto show = [](const char* name, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    printf("%-44s min %6.2f  median %6.2f us/image\n", name, v[0], v[v.size() / 2]);
  };
  printf("%zu images of (%zu, %zu), %zu rounds, std::nth_element (introselect)\n", images, nw, nt, rounds);
  show("copy the flux plane", tCopy);
  show("median_flux (copy + nth_element)", tFlux);
  show("snr_median (S/N > 0 packed + nth_element)", tSnr);
  return sink == 12345.678 ? 1 : 0;
}
