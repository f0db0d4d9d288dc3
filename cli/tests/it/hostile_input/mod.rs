//! The command-line tool against hostile input: a server's events that
//! carry terminal escape sequences, JSONL files that are damaged or binary,
//! a store in a directory the tool may not write, and edge events taken
//! through export, import and export again.

mod export_read_only;
mod import_errors;
mod round_trip;
mod tail_escaping;
