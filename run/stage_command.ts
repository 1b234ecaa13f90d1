// run/stage_command.ts — the name of ww's internal subcommand for the native jail's stage: main.ts
// dispatches it (and `ww --help` omits it); run/native.ts starts it. Its own module so that main
// does not load the native jail's code to learn a string.

/** The internal subcommand that runs the native jail's stage (run/native_stage.ts). */
export const NATIVE_STAGE_COMMAND = "__native-stage";
