/** Something that holds resources (key refreshers, Redis clients) and is stopped on gateway close. */
export interface Closeable {
  close(): Promise<void> | void;
}
