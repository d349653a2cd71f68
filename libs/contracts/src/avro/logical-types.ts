import avro from 'avsc';

/** timestamp-millis <-> JavaScript Date. */
export class TimestampMillisType extends avro.types.LogicalType {
  override _fromValue(value: number): Date {
    return new Date(value);
  }
  override _toValue(value: unknown): number | undefined {
    if (value instanceof Date) return value.getTime();
    if (typeof value === 'number') return value;
    return undefined;
  }
  override _resolve(type: avro.Type): ((value: number) => number) | undefined {
    if (avro.Type.isType(type, 'long', 'int', 'logical:timestamp-millis')) return (v: number) => v;
    return undefined;
  }
}

export const LOGICAL_TYPES = { 'timestamp-millis': TimestampMillisType } as const;
