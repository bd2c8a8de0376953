//! The `gauntlet` command: run plugins in a sandbox (`exec`), check the host (`doctor`), and throw the
//! attack library at both backends (`run`).

pub mod bench;
pub mod cli;
pub mod commands;
pub mod exec;
pub mod fuzz_cmd;
pub mod fuzzing;
pub mod library;
pub mod mutants;
pub mod oracles;
pub mod report;
pub mod runner;
pub mod supervise_cmd;
pub mod verdict;
