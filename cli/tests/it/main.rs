//! The command-line tool's integration tests, one binary: a module per
//! area, in it a module per behaviour, named as the sentence it checks;
//! `support` runs the tool and talks to its server.

mod support;

mod demo;
mod hostile_input;
mod import_export;
mod nats;
mod serve;
mod tail;
mod usage;
