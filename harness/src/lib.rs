//! The `gauntlet` command: run plugins in a sandbox (`exec`), check the host (`doctor`), and throw the
//! attack library at both backends (`run`).

pub mod cli;
pub mod exec;
