use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    im_service::telemetry::init_tracing();
    let config = fanout_worker::Config::parse();
    let shutdown = im_service::shutdown::on_signal();
    fanout_worker::run(config, shutdown).await
}
