'use strict';
// Money as integer ten-thousandths: amounts carry at most 4 decimals (spec 5.6), and JavaScript
// numbers are binary floats (0.1 + 0.2 !== 0.3), so balances never add floats.  The largest amount
// the platform sends, 99999999999.9999, is 999999999999999 units: still an exact safe integer.

const SCALE = 10000n;

class BadAmount extends Error {}

/** A JSON number or numeric string (the platform may send either, spec 6.7) as BigInt units. */
function toUnits(value, name = 'amount') {
  if (typeof value === 'boolean' || (typeof value !== 'number' && typeof value !== 'string')) {
    throw new BadAmount(`${name} must be a number`);
  }
  // A JSON number arrives as a double; its shortest decimal form is what the sender wrote.
  const text = typeof value === 'number' ? String(value) : value.trim();
  const match = /^(\d+)(?:\.(\d{1,4}))?$/.exec(text);
  if (!match) {
    throw new BadAmount(`${name} must be a number >= 0 with at most 4 decimals`);
  }
  return BigInt(match[1]) * SCALE + BigInt((match[2] || '').padEnd(4, '0'));
}

/** Units as a JSON number: an integer when whole (100000, not 100000.0 or "100000"). */
function fromUnits(units) {
  const negative = units < 0n;
  const size = negative ? -units : units;
  const whole = size / SCALE;
  const fraction = (size % SCALE).toString().padStart(4, '0').replace(/0+$/, '');
  return Number(`${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`);
}

module.exports = { BadAmount, fromUnits, toUnits };
