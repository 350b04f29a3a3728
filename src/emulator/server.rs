//! The accept loop. Our own loop (rather than `axum::serve`) so each connection can be dropped on purpose
//! (the Reset fault, with a TCP RST) and TLS is optional per emulator.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::state::ConnCtx;

/// Serves until `shutdown` is cancelled, then lets open connections finish for up to a second.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) {
    let tracker = TaskTracker::new();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let Ok((stream, peer)) = accepted else {
            // Transient accept errors (e.g. too many open files): back off briefly.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let router = router.clone();
        let shutdown = shutdown.clone();
        let acceptor = acceptor.clone();
        tracker.spawn(async move {
            // A second handle on the socket, to set SO_LINGER 0 when the Reset fault fires.
            let raw = socket2::SockRef::from(&stream).try_clone().ok();
            let ctx = ConnCtx {
                peer,
                kill: CancellationToken::new(),
            };
            match acceptor {
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                            .await;
                    if let Ok(Ok(tls_stream)) = handshake {
                        connection(tls_stream, raw, router, ctx, shutdown).await;
                    }
                }
                None => connection(stream, raw, router, ctx, shutdown).await,
            }
        });
    }
    tracker.close();
    tracker.wait().await;
}

async fn connection<S>(
    io: S,
    raw: Option<socket2::Socket>,
    router: Router,
    ctx: ConnCtx,
    shutdown: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let kill = ctx.kill.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ctx.clone());
        // Before routing: axum picks the handler by method before any middleware runs.
        super::gate::method_override(&mut request);
        router.clone().oneshot(request)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        // The platform's casing on the wire (`X-Total-Count`, `Content-Type`, `Link`): the `http`
        // crate keeps names in lower case, hyper capitalises each word when it writes them.
        .title_case_headers(true)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        // Dropping the connection (and our second handle) closes the socket without a response;
        // with SO_LINGER 0 the close is a TCP reset rather than a FIN.
        () = kill.cancelled() => {
            if let Some(raw) = &raw {
                let _ = raw.set_linger(Some(Duration::ZERO));
            }
            return;
        }
        () = shutdown.cancelled() => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(1), conn).await;
}
