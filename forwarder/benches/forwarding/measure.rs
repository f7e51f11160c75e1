//! Running a command as its own measured process: wall time, CPU time and peak RSS.
//!
//! Peak RSS comes from `getrusage(RUSAGE_CHILDREN)`, which reports the largest child a process
//! ever waited for. So each command runs under a fresh copy of this bench binary (`--measure`
//! mode) that waits for that one child and writes the figures to a file: every figure belongs
//! to exactly one command, whatever ran before it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, bail};
use nix::sys::resource::{UsageWho, getrusage};
use serde::{Deserialize, Serialize};

/// The flag that turns this binary into the measuring wrapper.
const MEASURE_FLAG: &str = "--measure";

/// What one command cost.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Usage {
    /// Wall-clock seconds, spawn to exit.
    pub wall_s: f64,
    /// User CPU seconds over all its threads.
    pub user_s: f64,
    /// System CPU seconds over all its threads.
    pub sys_s: f64,
    /// Peak resident set size in bytes.
    pub max_rss_bytes: u64,
}

impl Usage {
    /// User plus system CPU seconds.
    pub fn cpu_s(&self) -> f64 {
        self.user_s + self.sys_s
    }
}

/// A finished measured command.
#[derive(Debug)]
pub struct Measured {
    /// Its cost.
    pub usage: Usage,
    /// Its standard error, for summaries and failures.
    pub stderr: String,
}

/// A command to measure: program, arguments and environment (the rest is cleared). Its
/// standard output goes to /dev/null.
#[derive(Debug)]
pub struct Job {
    program: PathBuf,
    args: Vec<OsString>,
    envs: Vec<(String, String)>,
}

impl Job {
    /// `program` with no arguments, an empty environment and its output discarded.
    pub fn new(program: &Path) -> Self {
        Self {
            program: program.to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets one environment variable.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.envs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Runs it under the measuring wrapper; fails when it exits unsuccessfully.
    pub fn run(self, scratch: &Path) -> anyhow::Result<Measured> {
        let figures = scratch.join("usage.json");
        let _ = std::fs::remove_file(&figures);
        let mut wrapper = Command::new(std::env::current_exe()?);
        wrapper
            .arg(MEASURE_FLAG)
            .arg(&figures)
            .arg(&self.program)
            .args(&self.args)
            .env_clear()
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let output = wrapper
            .spawn()
            .with_context(|| format!("cannot start {}", self.program.display()))?
            .wait_with_output()?;
        let wall_s = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if !output.status.success() {
            bail!(
                "{} {:?} failed ({}):\n{stderr}",
                self.program.display(),
                self.args,
                output.status
            );
        }
        let mut usage: Usage = serde_json::from_slice(
            &std::fs::read(&figures).context("the measuring wrapper wrote no figures")?,
        )?;
        usage.wall_s = wall_s;
        Ok(Measured { usage, stderr })
    }
}

/// In `--measure FILE PROGRAM ARGS…` mode: runs PROGRAM, writes its [`Usage`] to FILE and exits
/// with its status. Returns `None` in every other mode.
pub fn wrapper_mode() -> Option<anyhow::Result<i32>> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != MEASURE_FLAG {
        return None;
    }
    Some((|| {
        let figures = PathBuf::from(args.next().context("--measure FILE PROGRAM")?);
        let program = args.next().context("--measure FILE PROGRAM")?;
        let started = Instant::now();
        let status = Command::new(&program).args(args).status()?;
        let wall_s = started.elapsed().as_secs_f64();
        let usage = getrusage(UsageWho::RUSAGE_CHILDREN)?;
        let seconds = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        let figures_json = serde_json::to_vec(&Usage {
            wall_s,
            user_s: seconds(usage.user_time()),
            sys_s: seconds(usage.system_time()),
            // Linux reports kilobytes.
            max_rss_bytes: u64::try_from(usage.max_rss()).unwrap_or(0) * 1024,
        })?;
        std::fs::write(figures, figures_json)?;
        Ok(status.code().unwrap_or(1))
    })())
}
