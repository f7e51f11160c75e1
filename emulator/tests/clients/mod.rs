//! Running the project virtualenv's awscli (v1) and Python (boto3) against an emulator, with
//! its credentials and none of the user's AWS configuration.
//!
//! Each test file uses a subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail, ensure};
use flowlog_emulator::Emulator;
use tokio::process::Command;

/// A tool of the virtualenv (`.venv` at the workspace root, or `FLOWLOG_VENV`).
fn venv_bin(name: &str) -> Result<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = std::env::var_os("FLOWLOG_VENV").map_or_else(|| root.join(".venv"), PathBuf::from);
    let bin = venv.join("bin").join(name);
    if !bin.is_file() {
        bail!("{} not found: run `make tools`", bin.display());
    }
    Ok(bin)
}

/// The clients of one test: commands that talk to its emulator, with `home` as their scratch
/// directory (and AWS config files that do not exist).
pub struct Clients<'a> {
    emulator: &'a Emulator,
    home: &'a Path,
}

impl<'a> Clients<'a> {
    pub fn new(emulator: &'a Emulator, home: &'a Path) -> Self {
        Self { emulator, home }
    }

    fn tool(&self, name: &str) -> Result<Command> {
        let settings = self.emulator.s3_settings();
        let mut cmd = Command::new(venv_bin(name)?);
        cmd.env("AWS_ACCESS_KEY_ID", &settings.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &settings.secret_key)
            .env("AWS_DEFAULT_REGION", &settings.region)
            .env("AWS_CONFIG_FILE", self.home.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.home.join("credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ENDPOINT_URL")
            .kill_on_drop(true);
        Ok(cmd)
    }

    /// `aws --endpoint-url <emulator> ARGS…`
    pub fn aws(&self, args: &[&str]) -> Result<Command> {
        let mut cmd = self.tool("aws")?;
        cmd.arg("--endpoint-url")
            .arg(self.emulator.s3_uri())
            .args(args);
        Ok(cmd)
    }

    /// `python tests/clients/SCRIPT ARGS…` (the script finds the endpoint in its arguments).
    pub fn python(&self, script: &str, args: &[&str]) -> Result<Command> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/clients")
            .join(script);
        let mut cmd = self.tool("python")?;
        cmd.arg(path).args(args);
        Ok(cmd)
    }
}

/// Runs a command to success and returns its stdout.
pub async fn run(mut cmd: Command) -> Result<String> {
    let out = cmd.output().await.context("running a client")?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure!(
        out.status.success(),
        "{cmd:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(stdout)
}

/// Runs a command that must fail and returns its stderr.
pub async fn run_failing(mut cmd: Command) -> Result<String> {
    let out = cmd.output().await.context("running a client")?;
    ensure!(
        !out.status.success(),
        "{cmd:?} succeeded but should have failed"
    );
    Ok(String::from_utf8_lossy(&out.stderr).into_owned())
}
