export type DirectoryErrorCode = "duplicate" | "not_found" | "invalid";

/** A directory operation refused, with a message fit to show the operator as it is. */
export class DirectoryError extends Error {
  constructor(
    readonly code: DirectoryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "DirectoryError";
  }
}
