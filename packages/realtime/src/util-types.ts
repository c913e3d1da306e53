/**
 * Small type utilities that @inngest/realtime 0.4.7 exports from its root entry; kept under the same
 * names so code that imports them keeps compiling.
 */

/** Compiles only when `T` is `true`: `type _ = Expect<IsEqual<A, B>>`. */
export type Expect<T extends true> = T;

/** `true` when `A` and `B` are the same type (not merely mutually assignable). */
export type IsEqual<A, B> =
  (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;

/** `Then` for a string, number or symbol literal (or a union of known keys), `Else` for the wide type. */
export type IsLiteral<T, Then = true, Else = false> = string extends T
  ? Else
  : number extends T
    ? Else
    : symbol extends T
      ? Else
      : Then;

/** `true` for a string literal, `false` for `string`. */
export type IsStringLiteral<T extends string> = string extends T ? false : true;

export type MaybePromise<T> = T | Promise<T>;

/** Flattens an intersection into one object type, so editors show its fields. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};
