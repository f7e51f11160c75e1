//! Child processes the tests start: killed when the guard drops (a failing test leaves nothing
//! running), with stdout and stderr captured to files (no pipe can fill up and block the child).
//!
//! The forwarder binary: the root package cannot use `CARGO_BIN_EXE_flowlog-forwarder` (Cargo
//! sets it only for a package's own binaries), so [`forwarder_bin`] finds it where Cargo puts
//! it, next to the test executable's `deps/` directory (`target/debug/flowlog-forwarder`). The
//! workspace-wide commands every script and the Makefile use (`cargo test --workspace
//! --all-targets`) build every member's binaries before any test runs; a missing binary, or
//! one older than the sources it is built from, fails with the command to run instead of testing
//! stale code. `FLOWLOG_FORWARDER_BIN` overrides the path.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail};

/// A running child process, killed (SIGKILL) and reaped when dropped.
#[derive(Debug)]
pub struct ChildGuard {
    child: Option<Child>,
    name: String,
    stdout: PathBuf,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl ChildGuard {
    /// Starts `command` with stdout and stderr going to files; `name` labels errors.
    ///
    /// # Errors
    /// When the program cannot be started.
    pub fn spawn(name: &str, mut command: Command) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let stdout = dir.path().join("stdout");
        let stderr = dir.path().join("stderr");
        let child = command
            .stdin(Stdio::null())
            .stdout(File::create(&stdout)?)
            .stderr(File::create(&stderr)?)
            .spawn()
            .with_context(|| format!("starting {name}: {command:?}"))?;
        Ok(Self {
            child: Some(child),
            name: name.to_owned(),
            stdout,
            stderr,
            _dir: dir,
        })
    }

    /// The process id.
    #[must_use]
    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the child wrote to stdout so far.
    #[must_use]
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// What the child wrote to stderr so far.
    #[must_use]
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Both outputs, labelled, for failure messages.
    #[must_use]
    pub fn output(&self) -> String {
        format!(
            "--- {} stdout ---\n{}\n--- {} stderr ---\n{}",
            self.name,
            self.stdout(),
            self.name,
            self.stderr()
        )
    }

    /// The exit status if the child has exited.
    ///
    /// # Errors
    /// When the status cannot be queried.
    pub fn try_status(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        match self.child.as_mut() {
            Some(child) => Ok(child.try_wait()?),
            None => bail!("{} was already killed", self.name),
        }
    }

    /// Waits (polling, without blocking the runtime) until the child exits.
    ///
    /// # Errors
    /// When it has not exited within `timeout` (it is killed then), with its output.
    pub async fn wait(&mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_status()? {
                return Ok(status);
            }
            if tokio::time::Instant::now() >= deadline {
                self.kill();
                bail!(
                    "{} did not exit within {timeout:?}\n{}",
                    self.name,
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the child with SIGKILL (no chance to clean up, like a crash) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The workspace root (where `Cargo.toml`, `forwarder/` and `emulator/` are).
#[must_use]
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `flowlog-forwarder` binary built from this workspace (see the module docs).
///
/// # Errors
/// When it is missing or older than the forwarder's (or the emulator's, which the `demo`
/// subcommand links) sources, saying how to build it.
pub fn forwarder_bin() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("FLOWLOG_FORWARDER_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    // target/debug/deps/<test> → target/debug/flowlog-forwarder
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .context("test executable has no target directory")?;
    let bin = dir.join(format!("flowlog-forwarder{}", std::env::consts::EXE_SUFFIX));
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .with_context(|| {
            format!(
                "{} is missing: run the tests with `cargo test --workspace --all-targets` \
                 (or `make test`), which builds it",
                bin.display()
            )
        })?;
    let sources = newest_mtime(&workspace_root().join("forwarder/src"))?
        .max(newest_mtime(&workspace_root().join("emulator/src"))?);
    if sources > built {
        bail!(
            "{} is older than forwarder/src or emulator/src: run `cargo test --workspace --all-targets` \
             (or `cargo build -p flowlog-forwarder`) so the test runs the current code",
            bin.display()
        );
    }
    Ok(bin)
}

fn newest_mtime(dir: &Path) -> anyhow::Result<SystemTime> {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let entry = entry?;
        let meta = entry.metadata()?;
        let t = if meta.is_dir() {
            newest_mtime(&entry.path())?
        } else {
            meta.modified()?
        };
        newest = newest.max(t);
    }
    Ok(newest)
}
