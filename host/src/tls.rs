//! TLS for every HTTPS client the crate makes: rustls with the *ring*
//! provider and the platform's certificate verifier (the roots and checks
//! reqwest would pick itself). reqwest's own default provider is aws-lc,
//! which added 2.1 MB to the release binary; the provider is passed per
//! client rather than installed process-wide, so an application embedding
//! the library keeps its own choice.

use std::sync::Arc;

use rustls_platform_verifier::BuilderVerifierExt;

/// A client configuration that verifies every certificate and host name.
/// Give it to `reqwest::ClientBuilder::tls_backend_preconfigured`.
pub fn client_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth())
}
