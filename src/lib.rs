//! ws2sim: a deterministic simulator of how Windows Sockets 2 loads, starts, runs down
//! and cleans up its service providers, with a checker for every documented contract.

pub mod contract;
pub mod providers;
pub mod scenario;
