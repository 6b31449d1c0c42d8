// Parsing of a block of cells pasted from a spreadsheet: rows end with a
// newline, cells are separated by tabs (Excel, LibreOffice, Google Sheets),
// or by commas or spaces when the text came from elsewhere.

/** Returns the pasted block as rows of trimmed cell strings, without empty trailing rows. */
export function parsePastedCells(text: string): string[][] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const separator = text.includes('\t') ? /\t/ : text.includes(',') ? /,/ : /\s+/;
  return lines.map((line) => line.trim().split(separator).map((cell) => cell.trim()));
}

/** Parses one cell as a finite number; spaces and an empty cell are invalid. */
export function parseCell(text: string): number | null {
  if (text.trim() === '') return null;
  const value = Number(text.trim());
  return Number.isFinite(value) ? value : null;
}
