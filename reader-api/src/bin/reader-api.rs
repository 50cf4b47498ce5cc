use anyhow::Context;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    im_service::telemetry::init_tracing();
    let config = reader_api::Config::parse();
    let listener = tokio::net::TcpListener::bind(&config.http_addr).await.with_context(|| format!("bind {}", config.http_addr))?;
    let shutdown = im_service::shutdown::on_signal();
    reader_api::run(config, listener, shutdown).await
}
