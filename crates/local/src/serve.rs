//! The local accept loop: the shared router served over HTTP/1.1 by hyper, with the limits a
//! server facing the internet needs (see `docs/limits.md` for the table):
//!
//! - **connections**: a semaphore taken before each `accept`, so at the cap new connections wait
//!   in the kernel's backlog instead of failing for want of file descriptors; the soft
//!   `RLIMIT_NOFILE` is raised to the hard limit first and the cap leaves a quarter of it (at
//!   least 64) to the store, the logs and outgoing webhooks;
//! - **idle**: a connection on which no byte has arrived since it opened or since its last
//!   answer is closed after the idle timeout, which frees the slot for the next client;
//! - **header**: hyper's header read timeout: the request head must be complete within it,
//!   counted from the same moment, so a head sent a byte a second is cut off;
//! - **body**: no more than the body timeout between two pieces of a request body
//!   (tower-http's `TimeoutBody`): a Content-Length larger than what is sent answers 408;
//! - **request**: the whole exchange, body included, within the request timeout, else 408 while
//!   the body was still arriving (the client is slow) or 503 with `Retry-After` (we are).
//!
//! Every refusal is the documented JSON error. On [`Shutdown`] the loop stops accepting, closes
//! idle connections, lets requests in flight finish and returns by the shutdown's deadline.

use crate::shutdown::Shutdown;
use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use leadclock_app::error::{HttpError, STORE_RETRY_AFTER_SECONDS};
use leadclock_app::http::response;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;
use tower_http::timeout::{TimeoutBody, TimeoutError};

/// File descriptors kept out of the connection cap: at least this many, or a quarter.
pub const FD_HEADROOM_MIN: u64 = 64;

/// The server's limits; [`Limits::from_env`] reads the `LEADCLOCK_*` overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub request_timeout: Duration,
    /// At most this many connections; `None` sizes the cap from the file-descriptor limit.
    pub max_connections: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_connections: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("{var}={value:?} is not a usable duration ({reason}); write e.g. 10s, 500ms or 2m")]
    Duration {
        var: &'static str,
        value: String,
        reason: String,
    },
    #[error("{var}={value:?} must be a positive whole number")]
    Count { var: &'static str, value: String },
}

/// A duration setting (humantime: `10s`, `500ms`, `2m`), `default` when unset or blank.
pub fn duration_setting(var: &'static str, default: Duration) -> Result<Duration, SettingError> {
    let Some(value) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) else {
        return Ok(default);
    };
    let bad = |reason: String| SettingError::Duration {
        var,
        value: value.clone(),
        reason,
    };
    match humantime::parse_duration(value.trim()) {
        Ok(d) if d.is_zero() => Err(bad("it must be longer than zero".into())),
        Ok(d) => Ok(d),
        Err(e) => Err(bad(e.to_string())),
    }
}

fn count_setting(var: &'static str) -> Result<Option<usize>, SettingError> {
    let Some(value) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(SettingError::Count { var, value }),
    }
}

impl Limits {
    /// The defaults, each overridden by its setting: `LEADCLOCK_HEADER_TIMEOUT`,
    /// `LEADCLOCK_BODY_TIMEOUT`, `LEADCLOCK_IDLE_TIMEOUT`, `LEADCLOCK_REQUEST_TIMEOUT`,
    /// `LEADCLOCK_MAX_CONNECTIONS`.
    pub fn from_env() -> Result<Self, SettingError> {
        let d = Limits::default();
        Ok(Limits {
            header_timeout: duration_setting("LEADCLOCK_HEADER_TIMEOUT", d.header_timeout)?,
            body_timeout: duration_setting("LEADCLOCK_BODY_TIMEOUT", d.body_timeout)?,
            idle_timeout: duration_setting("LEADCLOCK_IDLE_TIMEOUT", d.idle_timeout)?,
            request_timeout: duration_setting("LEADCLOCK_REQUEST_TIMEOUT", d.request_timeout)?,
            max_connections: count_setting("LEADCLOCK_MAX_CONNECTIONS")?,
        })
    }

    /// The connection cap for a process that may open `fds` descriptors: the configured cap,
    /// never more than the descriptors leave room for.
    pub fn connection_cap(&self, fds: u64) -> usize {
        let headroom = (fds / 4).max(FD_HEADROOM_MIN);
        let room = usize::try_from(fds.saturating_sub(headroom).max(1)).unwrap_or(usize::MAX);
        self.max_connections.map_or(room, |n| n.min(room))
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft limit now in force.
/// Failing to raise it is not fatal: the cap is then sized from the limit as it was.
pub fn raise_fd_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    // An unlimited value stands for "as many as the kernel allows"; size the cap from a large one.
    const UNLIMITED: u64 = 1 << 20;
    let now = getrlimit(Resource::Nofile);
    let soft = now.current.unwrap_or(UNLIMITED);
    let Some(hard) = now.maximum else { return soft };
    if hard <= soft {
        return soft;
    }
    let raised = Rlimit {
        current: Some(hard),
        maximum: Some(hard),
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => hard,
        Err(e) => {
            tracing::warn!(soft, hard, error = %e, "could not raise the file-descriptor limit");
            soft
        }
    }
}

/// Why the server answered for the route: the client or the handler was too slow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("the request body stopped arriving: nothing for {}", humantime::format_duration(*.0))]
    BodyTimeout(Duration),
    #[error("the request was not received within {}", humantime::format_duration(*.0))]
    SlowRequest(Duration),
    #[error("the request was not handled within {}; retry later", humantime::format_duration(*.0))]
    Timeout(Duration),
}

impl HttpError for LimitError {
    fn status(&self) -> u16 {
        match self {
            Self::BodyTimeout(_) | Self::SlowRequest(_) => 408,
            Self::Timeout(_) => 503,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::BodyTimeout(_) | Self::SlowRequest(_) => "request_timeout",
            Self::Timeout(_) => "timeout",
        }
    }
    fn field(&self) -> Option<String> {
        None
    }
    fn retry_after(&self) -> Option<u32> {
        matches!(self, Self::Timeout(_)).then_some(STORE_RETRY_AFTER_SECONDS)
    }
}

/// The answer for a limit, closing the connection when the body was left half-read.
fn limit_response(e: &LimitError) -> axum::response::Response {
    let mut r = response::error(e);
    if e.status() == 408 {
        r.headers_mut()
            .insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
    }
    r
}

/// Connections the kernel completes and queues while the server is at its cap (std and mio
/// use 128, which a burst fills at once).
pub const LISTEN_BACKLOG: u32 = 1024;

/// A listening socket on `addr` with [`LISTEN_BACKLOG`].
pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `router` on `listener` under `limits` until `shutdown`, then drains by its deadline.
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, shutdown: Shutdown) -> std::io::Result<()> {
    let fds = raise_fd_limit();
    let cap = limits.connection_cap(fds);
    tracing::info!(max_connections = cap, fd_limit = fds, ?limits, "serving");
    let slots = Arc::new(Semaphore::new(cap));
    let connections = TaskTracker::new();
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
            _ = shutdown.requested() => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => { accept_failed(e).await; continue }
            },
            _ = shutdown.requested() => break,
        };
        let (router, shutdown) = (router.clone(), shutdown.clone());
        connections.spawn(async move {
            connection(stream, router, limits, shutdown).await;
            drop(permit);
        });
    }
    drop(listener);
    drain(&connections, &shutdown).await;
    Ok(())
}

/// Out of descriptors or a connection reset before `accept`: neither stops the server.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::warn!(error = %e, "accept failed; retrying shortly");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

async fn drain(connections: &TaskTracker, shutdown: &Shutdown) {
    connections.close();
    let deadline = shutdown.deadline().unwrap_or_else(Instant::now);
    if tokio::time::timeout_at(deadline, connections.wait()).await.is_err() {
        tracing::warn!(
            open = connections.len(),
            "shutdown deadline passed with connections still open; closing them"
        );
    }
}

/// One connection: HTTP/1.1 with the header timer, closed when idle or on shutdown.
async fn connection(stream: TcpStream, router: Router, limits: Limits, shutdown: Shutdown) {
    let activity = Activity::new();
    let io = TokioIo::new(Heard {
        inner: stream,
        activity: activity.clone(),
    });
    let svc = service(router, limits, activity.clone());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let conn = http.serve_connection(io, svc);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended");
                }
                return;
            }
            _ = shutdown.requested(), if !closing => closing = true,
            _ = activity.idle_for(limits.idle_timeout), if !closing => closing = true,
        }
        // hyper closes an idle connection at once and lets a request in progress finish.
        conn.as_mut().graceful_shutdown();
    }
}

/// The per-request service: the body timer, the request timer, the activity count.
fn service(
    router: Router,
    limits: Limits,
    activity: Activity,
) -> impl hyper::service::Service<
    http::Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl std::future::Future<Output = Result<axum::response::Response, Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let busy = activity.begin();
        let body = BodyState::new(req.body());
        let req = req.map(|b| {
            Body::new(Watched {
                inner: TimeoutBody::new(limits.body_timeout, b),
                state: body.clone(),
            })
        });
        let call = router.clone().oneshot(req);
        async move {
            let answer = match tokio::time::timeout(limits.request_timeout, call).await {
                Ok(Ok(_)) if body.timed_out() => limit_response(&LimitError::BodyTimeout(limits.body_timeout)),
                Ok(Ok(r)) => r,
                Ok(Err(never)) => match never {},
                Err(_) if body.arriving() => limit_response(&LimitError::SlowRequest(limits.request_timeout)),
                Err(_) => limit_response(&LimitError::Timeout(limits.request_timeout)),
            };
            drop(busy);
            Ok(answer)
        }
    })
}

/// What became of a request's body: still arriving, complete, or cut off by its timer.
#[derive(Debug)]
struct BodyState {
    ended: AtomicBool,
    timed_out: AtomicBool,
}

impl BodyState {
    fn new(body: &Incoming) -> Arc<Self> {
        use http_body::Body as _;
        Arc::new(BodyState {
            ended: AtomicBool::new(body.is_end_stream()),
            timed_out: AtomicBool::new(false),
        })
    }
    fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Acquire)
    }
    fn arriving(&self) -> bool {
        !self.ended.load(Ordering::Acquire)
    }
}

pin_project_lite::pin_project! {
    /// A request body that records in its [`BodyState`] how it ended.
    struct Watched<B> {
        #[pin]
        inner: B,
        state: Arc<BodyState>,
    }
}

impl<B> http_body::Body for Watched<B>
where
    B: http_body::Body<Error = Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            None => this.state.ended.store(true, Ordering::Release),
            Some(Err(e)) if e.is::<TimeoutError>() => this.state.timed_out.store(true, Ordering::Release),
            Some(_) => {}
        }
        Poll::Ready(frame)
    }
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether a connection is doing anything: requests in flight, and whether any byte has arrived
/// since it last became ready for a request.
#[derive(Clone, Debug)]
struct Activity(Arc<watch::Sender<Idle>>);

#[derive(Clone, Copy, Debug)]
struct Idle {
    in_flight: usize,
    ready_since: Instant,
    heard: bool,
}

/// Held while a request is in flight.
struct Busy(Activity);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0 .0.send_modify(|s| {
            s.in_flight = s.in_flight.saturating_sub(1);
            if s.in_flight == 0 {
                s.ready_since = Instant::now();
                s.heard = false;
            }
        });
    }
}

impl Activity {
    fn new() -> Self {
        let (tx, _) = watch::channel(Idle {
            in_flight: 0,
            ready_since: Instant::now(),
            heard: false,
        });
        Activity(Arc::new(tx))
    }

    fn begin(&self) -> Busy {
        self.0.send_modify(|s| s.in_flight += 1);
        Busy(self.clone())
    }

    fn heard(&self) {
        self.0.send_if_modified(|s| !std::mem::replace(&mut s.heard, true));
    }

    /// Resolves once the connection has been silent, with nothing in flight, for `limit`.
    async fn idle_for(&self, limit: Duration) {
        let mut rx = self.0.subscribe();
        loop {
            let now = *rx.borrow_and_update();
            if now.in_flight == 0 && !now.heard {
                tokio::select! {
                    _ = tokio::time::sleep_until(now.ready_since + limit) => return,
                    _ = rx.changed() => {}
                }
            } else if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The socket, telling [`Activity`] when bytes arrive.
    struct Heard {
        #[pin]
        inner: TcpStream,
        activity: Activity,
    }
}

impl AsyncRead for Heard {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let r = ready!(this.inner.poll_read(cx, buf));
        if buf.filled().len() > before {
            this.activity.heard();
        }
        Poll::Ready(r)
    }
}

impl AsyncWrite for Heard {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_descriptors_for_the_store_logs_and_webhooks() {
        let l = Limits::default();
        assert_eq!(l.connection_cap(1024), 768);
        assert_eq!(l.connection_cap(200), 136, "at least 64 kept back");
        assert_eq!(l.connection_cap(10), 1, "never zero");
        let fixed = Limits {
            max_connections: Some(100),
            ..l
        };
        assert_eq!(fixed.connection_cap(1024), 100);
        assert_eq!(fixed.connection_cap(120), 56, "a setting cannot exceed the descriptors");
    }

    #[test]
    fn limit_errors_are_the_documented_json_with_their_status() {
        let body = LimitError::BodyTimeout(Duration::from_secs(10));
        assert_eq!(
            (body.status(), body.code(), body.retry_after()),
            (408, "request_timeout", None)
        );
        assert_eq!(body.to_string(), "the request body stopped arriving: nothing for 10s");
        let slow = LimitError::Timeout(Duration::from_secs(30));
        assert_eq!(
            (slow.status(), slow.code(), slow.retry_after()),
            (503, "timeout", Some(5))
        );
        let r = limit_response(&body);
        assert_eq!(r.status(), 408);
        assert_eq!(r.headers()[http::header::CONNECTION], "close");
        assert_eq!(r.headers()[http::header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn fd_limit_is_raised_to_the_hard_limit() {
        let fds = raise_fd_limit();
        let now = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        assert_eq!(now.current, now.maximum.or(now.current));
        assert!(fds > 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_is_idle_only_when_silent_with_nothing_in_flight() {
        let a = Activity::new();
        let limit = Duration::from_secs(5);
        let start = Instant::now();
        a.idle_for(limit).await;
        assert_eq!(start.elapsed(), limit, "silent since it opened");
        // A byte arrived: not idle until the request it began is answered.
        a.heard();
        let busy = a.begin();
        let idle = a.idle_for(limit);
        tokio::pin!(idle);
        assert!(tokio::time::timeout(Duration::from_secs(60), idle.as_mut())
            .await
            .is_err());
        let answered = Instant::now();
        drop(busy);
        idle.await;
        assert_eq!(answered.elapsed(), limit, "the clock restarts at the answer");
    }
}
