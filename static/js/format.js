// How numbers, sizes, durations and capture times are written on the page.

const UNITS = ["B", "KB", "MB", "GB", "TB"];

export function bytes(n) {
  if (n === null || n === undefined) return "–";
  let unit = 0;
  // Powers of 1024, as Django's filesizeformat writes the server's limits on the page.
  while (n >= 1024 && unit < UNITS.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return `${n >= 100 || unit === 0 ? Math.round(n) : n.toFixed(1)} ${UNITS[unit]}`;
}

// {".psd": 3, ".txt": 1} as ".psd 3, .txt 1", the most frequent first (as import_path prints it).
export function skipped(byExtension) {
  return Object.entries(byExtension || {})
    .sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1))
    .map(([extension, n]) => `${extension} ${n.toLocaleString()}`)
    .join(", ");
}

export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "–";
  if (seconds < 1) return "a moment";
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function count(n, one, many = `${one}s`) {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// A capture time is shown as the wall-clock time where it was taken, with that place's offset,
// exactly as the API gives it: converting it to the viewer's zone would show a holiday photo
// taken at noon as 3 a.m. A time whose offset the file did not record is a wall-clock time read in
// the server's zone: it says so rather than showing that zone's offset as a fact. A date alone
// (a folder named 2009) is shown as the day, month or year it is, never with an invented 00:00.
// `offset` is what follows the text: " +02:00", " UTC", ", zone not recorded" or ""; `machine` is
// the value for a <time datetime> ("2009", "2009-12", "2009-12-25" or the whole time).
export function captureTime(iso, precision = "second", offsetKnown = true) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso || "");
  if (!match) return { text: "No date", offset: "", machine: null };
  const [, year, month, day, hour, minute, , zone = ""] = match;
  const monthName = MONTHS[Number(month) - 1];
  if (precision === "year") return { text: year, offset: "", machine: year };
  if (precision === "month") return { text: `${monthName} ${year}`, offset: "", machine: `${year}-${month}` };
  if (precision === "day") return { text: `${Number(day)} ${monthName} ${year}`, offset: "", machine: `${year}-${month}-${day}` };
  const text = `${Number(day)} ${monthName} ${year}, ${hour}:${minute}`;
  if (offsetKnown === false) return { text, offset: ", zone not recorded", machine: iso };
  return { text, offset: zone ? ` ${zone === "Z" || zone === "+00:00" ? "UTC" : zone}` : "", machine: iso };
}

// The capture time of a file of the API, as captureTime() writes it.
export function fileTime(file) {
  return captureTime(file.timestamp, file.timestamp_precision || "second", file.timestamp_offset_known !== false);
}

// A job's creation time as the history table writes it on the server ("Nov 24, 21:42"), in the
// server's zone, which the API's times carry.
export function shortTime(iso) {
  const match = /^\d{4}-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
  return match ? `${MONTHS[Number(match[1]) - 1]} ${Number(match[2])}, ${match[3]}:${match[4]}` : "";
}

export function dimensions(file) {
  return file.width && file.height ? `${file.width} × ${file.height}` : "";
}

// Where a capture time came from, in words. The API names the exact source ("exif:CreateDate",
// "sidecar:takeout", docs/timestamps.md); the page says which kind of record it is and keeps the
// exact name for a tooltip. The most specific prefix wins; an unknown source is shown as it is.
const SOURCE_KINDS = [
  ["sidecar:takeout", "Google Takeout"],
  ["sidecar:", "Sidecar file"],
  ["exif:DateTimeOriginal", "Camera (EXIF)"],
  ["exif:", "EXIF"],
  ["xmp:", "XMP metadata"],
  ["iptc:", "IPTC metadata"],
  ["quicktime:", "Video metadata"],
  ["mp4:", "Video metadata"],
  ["h264:", "Video metadata"],
  ["avi:", "Video metadata"],
  ["mkv:", "Video metadata"],
  ["video:", "Video metadata"],
  ["filename", "File name"],
  ["gps", "GPS clock"],
  ["folder", "Folder name"],
  ["browser", "Browser's file date"],
  ["filesystem", "File modified date"],
];

export function source(name) {
  if (!name) return "No source";
  const kind = SOURCE_KINDS.find(([prefix]) => name.toLowerCase().startsWith(prefix.toLowerCase()));
  return kind ? kind[1] : name;
}

export const STATUS_LABELS = {
  pending: "Pending",
  running: "Running",
  paused: "Paused",
  cancelled: "Cancelled",
  completed: "Completed",
  failed: "Failed",
};

// A file's capture time in one string: "14 Jul 2009, 10:02 +02:00", "14 Jul 2009, 10:02, zone not
// recorded", "Jul 2009", "No date".
export function fileWhen(file) {
  const time = fileTime(file);
  return time.text + time.offset;
}

// A time of the evidence (always with its offset) in one string.
function when(iso) {
  const time = captureTime(iso);
  return time.text + time.offset;
}

const AGREE_MS = 60_000;

// Why a file has its date, in words: the source that won, its time and whether its zone was
// recorded, then what the other clues say ("File name agrees", "File modified date says …").
export function evidence(file) {
  const items = file.timestamp_evidence || [];
  const winner = [...items].reverse().find((e) => e.accepted && e.source === file.timestamp_source);
  if (!winner) return items.length ? "No clue could be used: " + items.map((e) => `${source(e.source)} (${e.note || "unreadable"})`).join("; ") + "." : "The file holds no clue to when it was taken.";
  const parts = [];
  if (winner.source === "manual") {
    const replaced = winner.replaced ? `, replacing ${when(winner.replaced)}` : "";
    parts.push(`Set by ${winner.by || "hand"} (${winner.raw})${replaced}`);
  } else {
    parts.push(`${source(winner.source)}, ${fileWhen(file)}`);
  }
  const at = Date.parse(file.timestamp);
  const agree = new Set();
  const differ = new Map();
  for (const item of items) {
    if (item === winner || item.source === "manual" || !item.accepted || !item.value) continue;
    const kind = source(item.source);
    if (Math.abs(Date.parse(item.value) - at) <= AGREE_MS) agree.add(kind);
    else if (!differ.has(kind)) differ.set(kind, item.value);
  }
  if (agree.size) parts.push(`${list([...agree])} ${agree.size === 1 ? "agrees" : "agree"}`);
  for (const [kind, value] of differ) parts.push(`${kind} says ${when(value)}`);
  if (file.timestamp_conflict) parts.push("the camera's own records disagree");
  return parts.join("; ") + ".";
}

function list(words) {
  return words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}
