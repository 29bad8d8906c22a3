//! Checks a SIP Core or openHAB configuration and prints what Sipline would run with.
//!
//! ```sh
//! cargo run --release --example sip-config -- check sip-config.json --ha-user jordy
//! cargo run --release --example sip-config -- check widget.yaml --format openhab --origin https://openhab.local:8443
//! cargo run --release --example sip-config -- schema sipcore
//! ```
//!
//! `check` prints the resolved configuration as JSON on stdout (passwords redacted) and the
//! warnings on stderr, exiting 0; or every error with its path on stderr, exiting 1.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sip_config::{
    ConfigError, Format, HaUser, LoadOptions, json_schema, load_file, parse_document,
};

#[derive(Parser)]
#[command(
    name = "sip-config",
    about = "Check SIP Core and openHAB oh-sipclient configurations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a configuration file (JSON or YAML) and print the resolved configuration.
    Check {
        /// The configuration file.
        file: PathBuf,
        /// `sipcore` or `openhab`; detected from the keys when left out.
        #[arg(long)]
        format: Option<Format>,
        /// Home Assistant user name (SIP Core user selection).
        #[arg(long)]
        ha_user: Option<String>,
        /// Home Assistant user id (matched before the name).
        #[arg(long)]
        ha_user_id: Option<String>,
        /// Page origin that relative URLs resolve against, such as https://ha.local:8123.
        #[arg(long)]
        origin: Option<String>,
        /// Home Assistant ingress entry of the PBX add-on (SIP Core without custom_wss_url).
        #[arg(long)]
        ingress_entry: Option<String>,
        /// openHAB: the device's local account (JSON or YAML) merged over the widget props.
        #[arg(long)]
        local: Option<PathBuf>,
    },
    /// Print the JSON Schema of a format.
    Schema {
        /// `sipcore` or `openhab`.
        format: Format,
    },
}

fn read_local(path: &PathBuf) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_document(&text, &path.display().to_string()).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Schema { format } => {
            print!("{}", json_schema(format));
            ExitCode::SUCCESS
        }
        Command::Check {
            file,
            format,
            ha_user,
            ha_user_id,
            origin,
            ingress_entry,
            local,
        } => {
            let mut opts = LoadOptions::new();
            opts.format = format;
            if ha_user.is_some() || ha_user_id.is_some() {
                let mut user = HaUser::default();
                user.name = ha_user;
                user.id = ha_user_id;
                opts.ha_user = Some(user);
            }
            opts.origin = origin;
            opts.ingress_entry = ingress_entry;
            if let Some(path) = &local {
                match read_local(path) {
                    Ok(v) => opts.openhab_local = Some(v),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            match load_file(&file, &opts) {
                Ok(loaded) => {
                    match serde_json::to_string_pretty(&loaded.config.redacted()) {
                        Ok(json) => println!("{json}"),
                        Err(e) => {
                            eprintln!("error: cannot print the configuration: {e}");
                            return ExitCode::FAILURE;
                        }
                    }
                    for w in &loaded.warnings {
                        eprintln!("{w}");
                    }
                    eprintln!(
                        "ok: {} ({} configuration, {} warning(s))",
                        file.display(),
                        loaded.format,
                        loaded.warnings.len()
                    );
                    ExitCode::SUCCESS
                }
                Err(ConfigError::Invalid { origin, report }) => {
                    for issue in report.issues() {
                        eprintln!("{issue}");
                    }
                    eprintln!("{origin}: {} error(s)", report.errors().count());
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
