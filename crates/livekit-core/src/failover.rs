//! LiveKit Cloud region failover, in one place: the region list (`GET /settings/regions`),
//! the client's cache of it, and the plan's choice of the next region to try.
//!
//! A call to a `*.livekit.cloud` host that fails in a retryable way asks for the region list
//! once (from the cache while it is fresh), then tries each region not yet tried, nearest
//! first; without a list it retries the same host.

use std::time::Duration;

use http::header::{AUTHORIZATION, CACHE_CONTROL, HeaderValue, USER_AGENT};

use crate::{BaseUrl, Client, Error};

/// The LiveKit Cloud region list, as `GET /settings/regions` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Regions {
    /// Region origins, nearest first, as HTTP(S) URLs.
    pub urls: Vec<BaseUrl>,
    /// How long the list may be cached (`Cache-Control: max-age`; zero means not at all).
    pub max_age: Duration,
}

/// The failover state of one call: the region list once known, and the hosts tried.
#[derive(Debug, Clone)]
pub(crate) struct Failover {
    regions: Option<Vec<BaseUrl>>,
    tried: Vec<String>,
}

impl Failover {
    /// Failover for a call to `base`, when it applies (a Cloud project host, failover on).
    pub(crate) fn for_base(base: &BaseUrl, enabled: bool) -> Option<Self> {
        (enabled && base.is_livekit_cloud()).then(|| Self {
            regions: None,
            tried: vec![base.authority().to_owned()],
        })
    }

    /// Whether the region list is still to be fetched.
    pub(crate) fn needs_regions(&self) -> bool {
        self.regions.is_none()
    }

    /// The region list (empty if discovery failed: the call then retries the same host).
    pub(crate) fn set_regions(&mut self, regions: Vec<BaseUrl>) {
        self.regions = Some(regions);
    }

    /// The target of the next attempt: the nearest region not tried yet, else `current`.
    pub(crate) fn next_target(&mut self, current: Option<BaseUrl>) -> Option<BaseUrl> {
        let next = self
            .regions
            .as_ref()
            .and_then(|regions| {
                regions
                    .iter()
                    .find(|region| !self.tried.iter().any(|tried| tried == region.authority()))
            })
            .map(BaseUrl::origin_only)
            .or(current);
        if let Some(target) = &next {
            self.tried.push(target.authority().to_owned());
        }
        next
    }
}

impl Client {
    /// `GET {origin}/settings/regions`, authorized like the call that needs failover.
    pub fn build_regions_request(
        &self,
        authorization: HeaderValue,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let mut builder = http::Request::builder()
            .method(http::Method::GET)
            .uri(format!("{}/settings/regions", self.base_url().origin()))
            .header(AUTHORIZATION, authorization)
            .header(
                USER_AGENT,
                HeaderValue::from_static(crate::client::DEFAULT_USER_AGENT),
            );
        if let Some(headers) = builder.headers_mut() {
            self.add_custom_headers(headers, None)?;
        }
        builder
            .body(Vec::new())
            .map_err(|error| Error::Build(crate::BuildError::RegionRequest(error.to_string())))
    }

    /// Parses the region list; anything but a 200 with the expected JSON is an error.
    pub fn parse_regions<B: AsRef<[u8]>>(
        &self,
        response: &http::Response<B>,
    ) -> Result<Regions, Error> {
        let body = response.body().as_ref();
        if response.status() != http::StatusCode::OK {
            return Err(Error::from(crate::response::server_error(
                "settings/regions",
                response.status().as_u16(),
                response.headers(),
                body,
                "",
            )));
        }
        let decode_error = |message: String| {
            Error::Decode(crate::DecodeError {
                rpc: "settings/regions",
                message,
                body: body.to_vec(),
            })
        };
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|error| decode_error(error.to_string()))?;
        let list = value
            .get("regions")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| decode_error("no regions array".into()))?;
        let urls = list
            .iter()
            .filter_map(|region| region.get("url")?.as_str())
            .filter_map(|url| BaseUrl::parse(url).ok())
            .collect();
        let max_age = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value.split(',').find_map(|directive| {
                    let directive = directive.trim();
                    let (name, seconds) = directive.split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case("max-age")
                        .then(|| seconds.trim().parse::<u64>().ok())?
                })
            })
            .map_or(Duration::ZERO, Duration::from_secs);
        Ok(Regions { urls, max_age })
    }

    /// The cached region list, if it has not expired at `monotonic_now`.
    pub(crate) fn cached_regions(&self, monotonic_now: Duration) -> Option<Vec<BaseUrl>> {
        let cache = self
            .regions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (urls, expires) = cache.as_ref()?;
        (monotonic_now < *expires).then(|| urls.clone())
    }

    /// Caches a region list for its `max-age` (a zero max-age is not cached).
    pub(crate) fn store_regions(&self, regions: &Regions, monotonic_now: Duration) {
        if regions.max_age.is_zero() {
            return;
        }
        let mut cache = self
            .regions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *cache = Some((
            regions.urls.clone(),
            monotonic_now.saturating_add(regions.max_age),
        ));
    }
}
