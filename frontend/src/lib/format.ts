// Formatting of numbers, sizes, durations and times for display.

const SI_PREFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

/** Formats a count with an SI prefix, e.g. 1.23e9 flops -> "1.23 G". */
export function formatSi(value: number | null | undefined, unit = ''): string {
  if (value == null || !Number.isFinite(value)) return '—';
  let scaled = Math.abs(value);
  let index = 0;
  while (scaled >= 1000 && index < SI_PREFIXES.length - 1) {
    scaled /= 1000;
    index += 1;
  }
  const sign = value < 0 ? '-' : '';
  const digits = scaled >= 100 ? 0 : scaled >= 10 ? 1 : 2;
  const separator = unit || SI_PREFIXES[index] ? ' ' : '';
  return `${sign}${scaled.toFixed(digits)}${separator}${SI_PREFIXES[index]}${unit}`;
}

/** Formats a byte count with binary prefixes (KiB, MiB, GiB). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = bytes;
  let index = 0;
  while (scaled >= 1024 && index < units.length - 1) {
    scaled /= 1024;
    index += 1;
  }
  return `${index === 0 ? scaled : scaled.toFixed(1)} ${units[index]}`;
}

/** Formats seconds as "42 s", "3 min 05 s" or "2 h 07 min". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** Formats a number in scientific notation with three significant digits, e.g. 1.23e-12. */
export function formatScientific(value: number | null | undefined): string {
  if (value == null) return '—';
  if (!Number.isFinite(value)) return String(value);
  return value.toExponential(2);
}

/** Formats an ISO 8601 timestamp in the browser's locale, or "—" when missing. */
export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** Returns the seconds between two ISO timestamps, or null when either is missing. */
export function secondsBetween(start: string | null | undefined, end: string | null | undefined): number | null {
  if (!start || !end) return null;
  const seconds = (new Date(end).getTime() - new Date(start).getTime()) / 1000;
  return Number.isFinite(seconds) ? seconds : null;
}
