// Where accepted points go: the write-ahead log, shipped to InfluxDB (or the points file) by the
// Shipper. The log is bounded: past it, metrics wait in memory with their MQTT ack (back-pressure)
// until the shipper confirms enough; presence and alert points always go in. An outage too old for
// the raw policy goes to a second, small log shipped to the long policy (collector/long-policy-outages.ts).
import { join } from 'node:path';
import type { Logger } from '../../shared/log.ts';
import type { CollectorConfig } from '../config.ts';
import { type DeadLetters, shouldLog } from '../dead-letters.ts';
import { PointsFile } from '../file-sink.ts';
import { InfluxHttp, InfluxQueryError } from '../influx-http.ts';
import { LineProtocolError, toLine } from '../line-protocol.ts';
import { longPolicyOutage } from '../long-policy-outages.ts';
import type { Point, PointSink } from '../point.ts';
import { applyRetention, unmanagedPolicyProblems } from '../retention.ts';
import { Shipper } from '../shipper.ts';
import { WriteAheadLog } from '../wal.ts';

export interface DurableSinkParts {
  config: Pick<CollectorConfig, 'wal' | 'influx' | 'retention' | 'pointsFile'>;
  deadLetters: DeadLetters;
  log: Logger;
  now: () => number;
}

export interface DurableSinkStats {
  walBytes: number;
  walSegments: number;
  /** Times the log reached its bound and acks were held; `backpressure` says whether it is now. */
  backpressureEvents: number;
  backpressure: boolean;
  influxUp: boolean;
  influxWrites: number;
  pointsWritten: number;
  writeRetries: number;
  lastWriteError: string | null;
  /** Outages older than the raw policy keeps, written straight to the long policy (issue 15). */
  longPolicyOutages: number;
}

interface HeldMessage {
  record: Buffer;
  lines: number;
  release: () => void;
}

const STOP_GRACE_MS = 3000;
/** The long policy's log, inside the main one's folder (its segments are not the main log's). */
export const LONG_POLICY_WAL_DIR = 'long-policy';

/** A log and its shipper: the raw policy's, and the long policy's for outages too old for the raw one. */
interface Lane {
  wal: WriteAheadLog;
  shipper: Shipper;
}

export class DurableSink {
  /** Where presence and alerts write their points: same log, same batches, same guarantees. */
  readonly points: PointSink;
  private readonly wal: WriteAheadLog;
  private readonly influx: InfluxHttp;
  private readonly pointsFile: PointsFile | null;
  private readonly shipper: Shipper;
  /** Null with a points file: no long policy to write to. */
  private readonly long: Lane | null;
  private longPolicyOutages = 0;
  private readonly maxBytes: number;
  private readonly held: HeldMessage[] = [];
  private backpressure = false;
  private backpressureEvents = 0;
  private lastBackpressureLog: number | undefined;
  private rawPolicyWarned = false;

  constructor(private readonly parts: DurableSinkParts) {
    const { config, deadLetters, log, now } = parts;
    this.maxBytes = config.wal.maxBytes;
    this.wal = new WriteAheadLog(config.wal);
    if (this.wal.tornBytes)
      log.warn({ bytes: this.wal.tornBytes }, 'write-ahead log: cut a torn record left by a crash');
    if (this.wal.unconfirmedBytes)
      log.info({ bytes: this.wal.unconfirmedBytes }, 'write-ahead log: replaying the unconfirmed tail');
    this.influx = new InfluxHttp({ ...config.influx, timeoutMs: config.influx.timeoutMs });
    const pointsFile = config.pointsFile ? new PointsFile(config.pointsFile) : null;
    this.pointsFile = pointsFile;
    if (pointsFile)
      log.info(
        { file: pointsFile.path },
        `no InfluxDB: points go to ${pointsFile.path} (line protocol); load them later with \`vigie replay ${pointsFile.path} --influx URL\``,
      );
    const shipper = (wal: WriteAheadLog, rp: string | undefined, onConfirmed?: () => void) =>
      new Shipper({
        wal,
        sink: pointsFile ?? this.influx,
        options: {
          ...config.influx,
          urgentBytes: Math.floor(config.wal.maxBytes / 2),
          ...(rp ? { rp } : {}),
        },
        log,
        prepare: async () => {
          if (pointsFile) return;
          if (config.retention.manage)
            return applyRetention(this.influx, config.influx.database, config.retention);
          await this.checkUnmanaged(rp === config.retention.rollup.name);
        },
        onRejected: (line, message) =>
          deadLetters.add({ at: now(), reason: 'influx_rejected', error: message, payload: line }),
        ...(onConfirmed ? { onConfirmed } : {}),
      });
    this.shipper = shipper(this.wal, config.retention.manage ? config.retention.raw.name : undefined, () =>
      this.releaseHeld(),
    );
    // Long-policy points have their own log whoever manages the policies (retention.manage false: the
    // operator does, under the configured names, where the dashboards and the report read them).
    if (!pointsFile) {
      const wal = new WriteAheadLog({ ...config.wal, dir: join(config.wal.dir, LONG_POLICY_WAL_DIR) });
      this.long = { wal, shipper: shipper(wal, config.retention.rollup.name) };
    } else this.long = null;
    this.points = {
      write: (list) => this.writePoints(list),
      written: () => Promise.all([this.shipper.written(), this.long?.shipper.written()]).then(() => {}),
    };
  }

  /**
   * retention.manage false: the long lane waits (its points stay in its log) until the rollup policy
   * exists; the raw lane only warns, once, that its policy is missing or not the default, and is never
   * held up by the check. An account allowed to write but not to list policies (InfluxDB refuses the
   * query) is not held up either: its writes say whether the policy exists.
   * @throws Error naming the missing rollup policy, or InfluxQueryError when InfluxDB does not answer
   *   (the shipper logs it and retries)
   */
  private async checkUnmanaged(longLane: boolean): Promise<void> {
    const { config, log } = this.parts;
    let problems: Awaited<ReturnType<typeof unmanagedPolicyProblems>>;
    try {
      problems = await unmanagedPolicyProblems(this.influx, config.influx.database, config.retention);
    } catch (err) {
      if (longLane && !(err instanceof InfluxQueryError && err.kind === 'refused')) throw err;
      return;
    }
    if (longLane) {
      if (problems.rollup) throw new Error(problems.rollup);
      return;
    }
    if (problems.raw && !this.rawPolicyWarned) {
      this.rawPolicyWarned = true;
      log.warn({ policy: config.retention.raw.name }, problems.raw);
    }
  }

  /** Creates database and policies, and ships what a previous run left in the log. */
  start(): void {
    this.shipper.warmUp();
    this.shipper.pump(true);
    this.long?.shipper.pump(true);
  }

  /** Appends a record if the log has room and nothing waits before it; false: hold it instead. */
  tryAppend(record: Buffer, lines: number): boolean {
    if (this.held.length !== 0 || this.full(record.length)) return false;
    this.append(record, lines);
    return true;
  }

  /** Keeps a record (and its ack, in `release`) until the log has room for it. */
  hold(record: Buffer, lines: number, release: () => void): void {
    if (!this.backpressure) {
      this.backpressure = true;
      this.backpressureEvents++;
      const at = this.parts.now();
      if (shouldLog(this.lastBackpressureLog, at)) {
        this.lastBackpressureLog = at;
        this.parts.log.warn(
          { walBytes: this.wal.unconfirmedBytes, maxBytes: this.maxBytes, times: this.backpressureEvents },
          'write-ahead log is full: holding MQTT acks until InfluxDB catches up (back-pressure)',
        );
      }
    }
    this.held.push({ record, lines, release });
  }

  /** Resolves when everything accepted so far is in InfluxDB. */
  drained(): Promise<void> {
    return Promise.all([this.shipper.drained(), this.long?.shipper.drained()]).then(() => {});
  }

  /** Both logs together (the long policy's is a few points an hour). */
  stats(): DurableSinkStats {
    const s = this.shipper.stats;
    const l = this.long?.shipper.stats;
    return {
      walBytes: this.wal.unconfirmedBytes + (this.long?.wal.unconfirmedBytes ?? 0),
      walSegments: this.wal.segmentCount,
      backpressureEvents: this.backpressureEvents,
      backpressure: this.backpressure,
      influxUp: s.influxUp && (l?.influxUp ?? true),
      influxWrites: s.writes + (l?.writes ?? 0),
      pointsWritten: s.pointsWritten + (l?.pointsWritten ?? 0),
      writeRetries: s.retries + (l?.retries ?? 0),
      lastWriteError: s.lastError ?? l?.lastError ?? null,
      longPolicyOutages: this.longPolicyOutages,
    };
  }

  /** A short grace for writes under way; what InfluxDB has not taken stays in the log for the next start. */
  async close(): Promise<void> {
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([
      this.drained(),
      new Promise((resolve) => {
        grace = setTimeout(resolve, STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(grace);
    this.shipper.stop();
    this.wal.close();
    this.long?.shipper.stop();
    this.long?.wal.close();
    await this.influx.close();
    await this.pointsFile?.close();
  }

  /**
   * One point that cannot be written is dead-lettered, named; the others of the list still go in. An
   * outage too old for the raw policy goes to the long one instead, counted and logged; so does a
   * point marked `policy: 'long'` (with a points file, both go to the file).
   */
  private writePoints(list: Point[]): void {
    let lines = '';
    let written = 0;
    let longLines = '';
    let longWritten = 0;
    const nowMs = this.parts.now();
    for (const point of list) {
      const long = !this.long
        ? null
        : point.policy === 'long'
          ? point
          : longPolicyOutage(point, this.parts.config.retention, nowMs);
      try {
        if (long === point) {
          longLines += `${toLine(long)}\n`;
          longWritten++;
          continue;
        }
        if (long) {
          longLines += `${toLine(long)}\n`;
          longWritten++;
          this.longPolicyOutages++;
          this.parts.log.info(
            {
              uai: long.tags['uai'],
              start: new Date(point.time).toISOString(),
              policy: this.parts.config.retention.rollup.name,
            },
            'outage older than the raw policy keeps: written to the long policy',
          );
          continue;
        }
        lines += `${toLine(point)}\n`;
        written++;
      } catch (err) {
        if (!(err instanceof LineProtocolError)) throw err;
        this.parts.deadLetters.add({
          at: nowMs,
          reason: 'unwritable',
          error: `${point.measurement} ${JSON.stringify(point.tags)}: ${err.message}`,
          payload: JSON.stringify(point),
        });
      }
    }
    // Presence and alert points are few: they go in even past the bound, never held.
    if (written) this.append(Buffer.from(lines), written);
    if (longWritten && this.long) {
      this.long.wal.append(Buffer.from(longLines));
      this.long.shipper.appended(longWritten);
    }
  }

  private full(size: number): boolean {
    return this.wal.unconfirmedBytes > 0 && this.wal.unconfirmedBytes + size > this.maxBytes;
  }

  private append(record: Buffer, lines: number): void {
    this.wal.append(record);
    this.shipper.appended(lines);
  }

  private releaseHeld(): void {
    const held = this.held;
    while (held.length && !this.full(held[0]!.record.length)) {
      const h = held.shift()!;
      this.append(h.record, h.lines);
      h.release();
    }
    if (held.length === 0 && this.backpressure) {
      this.backpressure = false;
      this.parts.log.debug(
        { walBytes: this.wal.unconfirmedBytes },
        'write-ahead log has room again: acking resumes',
      );
    }
  }
}
