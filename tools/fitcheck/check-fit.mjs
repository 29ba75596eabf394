// check-fit.mjs decodes a FIT file with Garmin's own FIT SDK (@garmin/fitsdk)
// and prints, as JSON on stdout, whether the file is sound and the values the
// Go tests of internal/format/fit compare with the workout they encoded.
//
// Usage: node tools/fitcheck/check-fit.mjs FILE.fit
//
// Exit status: 0 when the file passes the integrity check and decodes without
// errors, 1 when it does not, 2 on a usage or read error. The JSON is printed
// in every case but the last, so a caller can show what went wrong.
import { readFileSync } from 'node:fs';
import { Decoder, Stream } from '@garmin/fitsdk';

const path = process.argv[2];
if (!path) {
  console.error('usage: node check-fit.mjs FILE.fit');
  process.exit(2);
}

let buf;
try {
  buf = readFileSync(path);
} catch (e) {
  console.error(`read ${path}: ${e.message}`);
  process.exit(2);
}

const decoder = new Decoder(Stream.fromBuffer(buf));
const isFIT = decoder.isFIT();
const integrity = decoder.checkIntegrity();

let messages = {};
let errors = [];
try {
  ({ messages, errors } = decoder.read({
    expandSubFields: true,
    expandComponents: true,
    applyScaleAndOffset: true,
    convertTypesToStrings: true,
    convertDateTimesToDates: true,
    includeUnknownData: false,
    mergeHeartRates: true,
  }));
} catch (e) {
  errors = [e];
}

const list = (k) => messages[k] ?? [];
// iso turns a decoded date into RFC 3339; other values pass through.
const iso = (v) => (v instanceof Date ? v.toISOString() : v ?? null);
// pick copies the named fields (null when absent), turning dates into strings.
const pick = (m, keys) => Object.fromEntries(keys.map((k) => [k, iso(m?.[k])]));

const fileId = list('fileIdMesgs')[0];
const session = list('sessionMesgs')[0];
const activity = list('activityMesgs')[0];

const out = {
  file: path,
  bytes: buf.length,
  isFIT,
  checkIntegrity: integrity,
  decodeErrors: errors.map((e) => String(e?.message ?? e)),
  fileId: pick(fileId, ['type', 'manufacturer', 'product', 'garminProduct', 'productName', 'serialNumber', 'timeCreated']),
  deviceInfos: list('deviceInfoMesgs').map((m) =>
    pick(m, ['timestamp', 'deviceIndex', 'manufacturer', 'product', 'garminProduct', 'productName', 'softwareVersion', 'serialNumber'])),
  session: pick(session, [
    'timestamp', 'startTime', 'totalElapsedTime', 'totalTimerTime', 'totalDistance', 'sport', 'subSport',
    'totalCalories', 'totalAscent', 'totalDescent', 'avgHeartRate', 'maxHeartRate', 'avgCadence', 'avgFractionalCadence',
    'maxCadence', 'maxFractionalCadence', 'totalCycles', 'totalStrides', 'totalStrokes', 'poolLength', 'numLengths',
    'numActiveLengths', 'numLaps', 'swimStroke']),
  activity: pick(activity, ['timestamp', 'localTimestamp', 'totalTimerTime', 'numSessions', 'type', 'event', 'eventType']),
  sessionCount: list('sessionMesgs').length,
  recordCount: list('recordMesgs').length,
  records: list('recordMesgs').map((m) =>
    pick(m, ['timestamp', 'positionLat', 'positionLong', 'heartRate', 'cadence', 'fractionalCadence', 'distance',
      'enhancedAltitude', 'enhancedSpeed', 'power'])),
  lapCount: list('lapMesgs').length,
  laps: list('lapMesgs').map((m) =>
    pick(m, ['startTime', 'timestamp', 'totalElapsedTime', 'totalTimerTime', 'totalDistance', 'avgHeartRate', 'maxHeartRate',
      'lapTrigger', 'numLengths', 'firstLengthIndex'])),
  lengthCount: list('lengthMesgs').length,
  lengths: list('lengthMesgs').map((m) =>
    pick(m, ['startTime', 'timestamp', 'totalElapsedTime', 'totalTimerTime', 'totalStrokes', 'swimStroke', 'lengthType'])),
  timerEvents: list('eventMesgs').filter((m) => m.event === 'timer').map((m) => pick(m, ['timestamp', 'eventType'])),
};

const ok = isFIT && integrity && out.decodeErrors.length === 0;
out.ok = ok;
console.log(JSON.stringify(out));
// exitCode, not exit(): exit() would cut off stdout still being written to a pipe.
process.exitCode = ok ? 0 : 1;
