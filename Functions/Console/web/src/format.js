// Numbers, money and dates as the console shows them (UTC throughout, as statements and limits count).

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export function count(value) {
  return integer.format(Number(value ?? 0));
}

export function short(value) {
  return compact.format(Number(value ?? 0));
}

const units = ['KiB', 'MiB', 'GiB', 'TiB'];
const scaled = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** A size in bytes in the largest binary unit under it (10 GiB, 1.5 MiB, 512 B). */
export function bytes(value) {
  let amount = Number(value ?? 0);
  if (Math.abs(amount) < 1024) {
    return `${integer.format(amount)} B`;
  }
  let unit = -1;
  while (Math.abs(amount) >= 1024 && unit < units.length - 1) {
    amount /= 1024;
    unit += 1;
  }
  return `${scaled.format(amount)} ${units[unit]}`;
}

/** An amount in a currency; up to 6 decimals (costs are kept to the micro-unit), at least 2. */
export function money(value, currency) {
  const amount = Number(value ?? 0);
  const text = amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: amount !== 0 && Math.abs(amount) < 0.01 ? 6 : 2 });
  return currency ? `${text} ${currency}` : text;
}

/** An amount for a figure tile: the number, and the currency set smaller. */
export function moneyTile(value, currency) {
  const small = document.createElement('small');
  small.textContent = currency ?? '';
  // The space lets a tile too narrow for the whole figure put the currency on a line of its own.
  return [money(value), ' ', small];
}

/** yyyy-mm-dd of a Date, in UTC. */
export function day(date) {
  return date.toISOString().slice(0, 10);
}

/** The UTC day `offset` days from `date`'s. */
export function addDays(date, offset) {
  const result = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  result.setUTCDate(result.getUTCDate() + offset);
  return result;
}

/** Every UTC day from `from` to `to`, both included, as yyyy-mm-dd. */
export function days(from, to) {
  const result = [];
  for (let d = addDays(new Date(`${from}T00:00:00Z`), 0); day(d) <= to; d = addDays(d, 1)) {
    result.push(day(d));
  }
  return result;
}

/** yyyy-mm of the current UTC month. */
export function thisMonth() {
  return new Date().toISOString().slice(0, 7);
}

/** A timestamp as "yyyy-mm-dd hh:mm:ss UTC". */
export function time(value) {
  if (!value) {
    return '—';
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function duration(ms) {
  if (ms === null || ms === undefined) {
    return '—';
  }
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
