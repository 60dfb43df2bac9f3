//! Proof that a watch is alive. kube's watcher consumes bookmarks itself and re-opens a watch
//! that went quiet without a word, so a watch the network stalls looks, from its events, the
//! same as a quiet cluster. This layer sits in the read client and notes, per watched path,
//! every sign of life on the wire: a chunk of a watch response (an event or a bookmark) or
//! its normal end at the server-side timeout. A watch with no sign of life for longer than
//! that timeout, plus a margin, is dead, whatever the last data said.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use tower::{Layer, Service};

/// The last sign of life of each watched path (`/api/v1/namespaces/shop/pods`).
#[derive(Debug, Clone, Default)]
pub struct Pulse(Arc<Mutex<HashMap<String, Instant>>>);

impl Pulse {
    fn beat(&self, path: &str) {
        let mut beats = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        beats.insert(path.to_owned(), Instant::now());
    }

    /// When `path`'s watch last showed it was alive, if ever.
    pub fn last(&self, path: &str) -> Option<Instant> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(path).copied()
    }
}

/// The layer that feeds a [`Pulse`].
#[derive(Debug, Clone)]
pub struct PulseLayer(pub Pulse);

impl<S> Layer<S> for PulseLayer {
    type Service = PulseService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PulseService { inner, pulse: self.0.clone() }
    }
}

#[derive(Debug, Clone)]
pub struct PulseService<S> {
    inner: S,
    pulse: Pulse,
}

fn is_watch<B>(request: &Request<B>) -> bool {
    request.uri().query().is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"))
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for PulseService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Body + Unpin,
{
    type Response = Response<PulseBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let watched = is_watch(&request).then(|| (self.pulse.clone(), request.uri().path().to_owned()));
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|inner| PulseBody { inner, watched }))
        })
    }
}

/// A response body that beats the pulse on each chunk and at its end, for a watch.
#[derive(Debug)]
pub struct PulseBody<B> {
    inner: B,
    watched: Option<(Pulse, String)>,
}

impl<B: Body + Unpin> Body for PulseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let (Poll::Ready(None | Some(Ok(_))), Some((pulse, path))) = (&polled, &self.watched) {
            pulse.beat(path);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
