// Declarations for the two PDF libraries, which ship no types: only what render.ts calls.
declare module "pdfkit" {
  interface PDFDocumentOptions { size?: [number, number]; margin?: number; autoFirstPage?: boolean; compress?: boolean; info?: Record<string, string> }
  class PDFDocument {
    constructor(options?: PDFDocumentOptions);
    on(event: "data", cb: (chunk: Buffer) => void): this;
    on(event: "end", cb: () => void): this;
    end(): void;
  }
  export default PDFDocument;
}
declare module "svg-to-pdfkit" {
  function SVGtoPDF(doc: unknown, svg: string, x: number, y: number, options?: { width?: number; height?: number; assumePt?: boolean }): void;
  export default SVGtoPDF;
}
