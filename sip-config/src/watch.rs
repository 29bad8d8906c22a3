//! A file-watching loader: new configurations only when they parse and validate.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::diff::{ConfigDiff, diff};
use crate::error::ConfigError;
use crate::issue::Issue;
use crate::load::{LoadOptions, Loaded, load_file};
use crate::phone::PhoneConfig;

/// Quiet time after the last file event before the file is read: editors write in several
/// steps (truncate, write, rename), and reading in between would report a half-written file.
const SETTLE: Duration = Duration::from_millis(150);

/// What the watcher saw after an edit.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReloadEvent {
    /// The file changed, parsed and validated; this is now the current configuration.
    Applied {
        /// The new configuration.
        config: Box<PhoneConfig>,
        /// What changed compared with the previous one, and what that requires.
        diff: ConfigDiff,
        /// Warnings of the new file.
        warnings: Vec<Issue>,
    },
    /// The edit is broken; the previous configuration stays current.
    Rejected {
        /// Why the new content was refused.
        error: ConfigError,
    },
}

/// Watches a configuration file and reloads it on change.
///
/// Needs a tokio runtime. Dropping the watcher stops it.
///
/// ```no_run
/// # async fn demo() -> Result<(), sip_config::ConfigError> {
/// let (mut watcher, first) = sip_config::ConfigWatcher::start("sip-config.json", Default::default())?;
/// println!("running {}", first.config.account.aor);
/// while let Some(event) = watcher.next().await {
///     match event {
///         sip_config::ReloadEvent::Applied { diff, .. } => println!("{diff}"),
///         sip_config::ReloadEvent::Rejected { error } => eprintln!("kept the old config: {error}"),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ConfigWatcher {
    events: mpsc::UnboundedReceiver<ReloadEvent>,
    current: watch::Receiver<Arc<PhoneConfig>>,
    task: JoinHandle<()>,
    // Kept alive for as long as the watcher lives; dropping it stops the OS watch.
    _watcher: RecommendedWatcher,
}

impl ConfigWatcher {
    /// Loads `path` and starts watching it. Fails when the first load fails (there is no old
    /// configuration to keep) or the file cannot be watched.
    pub fn start(path: impl AsRef<Path>, opts: LoadOptions) -> Result<(Self, Loaded), ConfigError> {
        let path = path.as_ref().to_path_buf();
        let (raw_tx, raw_rx) = mpsc::unbounded_channel();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            // The receiver is gone only when the watcher is being dropped.
            let _ = raw_tx.send(res);
        })
        .map_err(|source| ConfigError::Watch {
            path: path.clone(),
            source,
        })?;
        // Watch the directory: editors often replace the file by renaming a new one over it,
        // which a watch on the old file would miss.
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|source| ConfigError::Watch {
                path: path.clone(),
                source,
            })?;
        let first = load_file(&path, &opts)?;
        let (current_tx, current) = watch::channel(Arc::new(first.config.clone()));
        let (events_tx, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(path, opts, raw_rx, current_tx, events_tx));
        Ok((
            Self {
                events,
                current,
                task,
                _watcher: watcher,
            },
            first,
        ))
    }

    /// The next reload event; `None` once the watcher has stopped.
    pub async fn next(&mut self) -> Option<ReloadEvent> {
        self.events.recv().await
    }

    /// The configuration currently in force.
    pub fn current(&self) -> Arc<PhoneConfig> {
        self.current.borrow().clone()
    }

    /// A receiver that sees every newly applied configuration.
    pub fn subscribe(&self) -> watch::Receiver<Arc<PhoneConfig>> {
        self.current.clone()
    }
}

impl Drop for ConfigWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn concerns(event: &notify::Result<notify::Event>, file: &Path) -> bool {
    match event {
        Ok(ev) => {
            matches!(
                ev.kind,
                EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Any
            ) && (ev.paths.is_empty() || ev.paths.iter().any(|p| p.file_name() == file.file_name()))
        }
        Err(_) => true,
    }
}

async fn run(
    path: PathBuf,
    opts: LoadOptions,
    mut raw: mpsc::UnboundedReceiver<notify::Result<notify::Event>>,
    current: watch::Sender<Arc<PhoneConfig>>,
    events: mpsc::UnboundedSender<ReloadEvent>,
) {
    while let Some(event) = raw.recv().await {
        if let Err(e) = &event {
            tracing::warn!(target: "sip_config", path = %path.display(), "file watch error: {e}");
        }
        if !concerns(&event, &path) {
            continue;
        }
        // Let a burst of events settle before reading.
        loop {
            match tokio::time::timeout(SETTLE, raw.recv()).await {
                Ok(Some(_)) => continue,
                Ok(None) => return,
                Err(_) => break,
            }
        }
        let (p, o) = (path.clone(), opts.clone());
        let loaded = match tokio::task::spawn_blocking(move || load_file(&p, &o)).await {
            Ok(result) => result,
            Err(join) => {
                tracing::error!(target: "sip_config", "config reload task failed: {join}");
                continue;
            }
        };
        let event = match loaded {
            Ok(l) => {
                let old = current.borrow().clone();
                let d = diff(&old, &l.config);
                if d.is_empty() {
                    continue;
                }
                tracing::info!(target: "sip_config", path = %path.display(), "configuration reloaded: {d}");
                current.send_replace(Arc::new(l.config.clone()));
                ReloadEvent::Applied {
                    config: Box::new(l.config),
                    diff: d,
                    warnings: l.warnings,
                }
            }
            Err(error) => {
                tracing::warn!(target: "sip_config", path = %path.display(), "kept the previous configuration: {error}");
                ReloadEvent::Rejected { error }
            }
        };
        if events.send(event).is_err() {
            return;
        }
    }
}
