//! Serving an axum router on a listener until the shutdown token fires. Every
//! service's router gets `/metrics` (Prometheus text) and `/health`.

use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Adds `/metrics` and `/health` to a service's router.
pub fn with_ops_routes(router: Router) -> Router {
    let handle = crate::telemetry::metrics_handle();
    router
        .route("/metrics", get(move || std::future::ready(handle.render())))
        .route("/health", get(|| std::future::ready("ok")))
}

/// Serves until `shutdown` is cancelled, then lets in-flight requests finish.
pub async fn serve(listener: TcpListener, router: Router, shutdown: CancellationToken) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    tracing::info!(%address, "http listening");
    axum::serve(listener, router).with_graceful_shutdown(shutdown.cancelled_owned()).await
}
