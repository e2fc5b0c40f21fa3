// Compiled with `tsc --noEmit` by tests/test_codegen.py: the generated types must accept the right
// calls and reject the wrong ones (each @ts-expect-error line must be an error, or tsc fails).
import type { ErrorCode, IdentifyQueryVariables, ImageInput, PeopleQueryVariables } from "./generated/graphql";

const byUpload: ImageInput = { upload: new File([], "probe.jpg") };
const byBase64: ImageInput = { base64: "aGVsbG8=" };
// @ts-expect-error ImageInput is @oneOf: not both
const both: ImageInput = { base64: "aGVsbG8=", upload: new File([], "probe.jpg") };
// @ts-expect-error ImageInput is @oneOf: not neither
const neither: ImageInput = {};

const identify: IdentifyQueryVariables = { image: byBase64, limit: null }; // null means the default
const people: PeopleQueryVariables = { first: null, after: null };
const code: ErrorCode = "RATE_LIMITED";
// @ts-expect-error not an error code
const wrong: ErrorCode = "NOT_A_CODE";

export { both, byUpload, code, identify, neither, people, wrong };
