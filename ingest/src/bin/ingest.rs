use clap::Parser;
use ingest::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    im_service::telemetry::init_tracing();
    match Cli::parse().into_command() {
        Command::Serve(config) => {
            let listener = tokio::net::TcpListener::bind(&config.http_addr).await?;
            ingest::run(config, listener, im_service::shutdown::on_signal()).await
        }
        Command::Replay(args) => Ok(println!("{}", ingest::replay::run(args).await?)),
        Command::Generate(args) => Ok(println!("{}", ingest::generate::run(args).await?)),
    }
}
