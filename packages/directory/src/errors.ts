export type DirectoryErrorCode = "duplicate" | "not_found" | "invalid";

/**
 * A directory operation refused, with a message fit to show the operator as it is and,
 * when one input is at fault, its name (`address`, `catchAll`, `targets`, `host`, …),
 * so that the admin API can name the field.
 */
export class DirectoryError extends Error {
  constructor(
    readonly code: DirectoryErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "DirectoryError";
  }
}
