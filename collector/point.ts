// An InfluxDB point as the collector builds it. The mapping from samples to points, and the table
// of measurements, tags and fields, lives in collector/schema.ts.

/** Integers are tagged so they are written with the `i` suffix and keep one type forever. */
export interface IntField {
  int: number;
}
export type FieldValue = number | boolean | string | IntField;

export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** ms since epoch (the agent's clock for samples). */
  time: number;
  /** `long`: written to the long retention policy (computed figures that outlive the raw one). */
  policy?: 'long';
}

export const int = (n: number): IntField => ({ int: Math.trunc(n) });

/** Where presence and alerts write their points (transitions, outages): the collector's writer. */
export interface PointSink {
  write(points: Point[]): void;
  /** Resolves once every point written so far (a previous run's unconfirmed ones too) is in InfluxDB. */
  written?(): Promise<void>;
}
