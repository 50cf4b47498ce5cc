use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    im_service::telemetry::init_tracing();
    let config = relation_stream::Config::parse();
    let shutdown = im_service::shutdown::on_signal();
    relation_stream::run(config, shutdown).await
}
