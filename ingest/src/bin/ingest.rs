use anyhow::Context;
use clap::Parser;
use ingest::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    im_service::telemetry::init_tracing();
    match Cli::parse().into_command() {
        Command::Serve(config) => {
            let listener =
                tokio::net::TcpListener::bind(&config.http_addr).await.with_context(|| format!("bind {}", config.http_addr))?;
            ingest::run(config, listener, im_service::shutdown::on_signal()).await
        }
        Command::Replay(args) => report(ingest::replay::run(args).await?),
        Command::Generate(args) => report(ingest::generate::run(args).await?),
    }
}

/// Prints the run's summary on stdout, the summary line last (scripts/summary.py
/// reads the last line and the `sample user:` line).
fn report(summary: ingest::client::Summary) -> anyhow::Result<()> {
    if let Some(user) = &summary.tally.sample_user {
        println!("sample user: {user}");
    }
    println!("{summary}");
    Ok(())
}
