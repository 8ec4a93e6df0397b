//! cyclone's attribute macros. Use them through the facade: `#[cyclone::test]`.

#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, ItemFn, Lit, Meta, Token};

/// Tornado's `@gen_test`: runs an `async fn` test on a fresh loop (an actix System of its
/// own) and fails it if it takes longer than its timeout.
///
/// The timeout is `timeout = SECONDS` (an integer or a decimal), else the
/// `ASYNC_TEST_TIMEOUT` environment variable, else 5 seconds, as Tornado's. The test may
/// return `()` or a `Result`.
///
/// ```ignore
/// #[cyclone::test]
/// async fn fetches() {
///     let server = cyclone::testing::TestServer::start(app()).unwrap();
///     assert_eq!(server.fetch("/").await.unwrap().code, 200);
/// }
///
/// #[cyclone::test(timeout = 30)]
/// async fn slow() -> Result<(), Box<dyn std::error::Error>> { Ok(()) }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    match expand(args.into(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// The test function, wrapped.
fn expand(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let function: ItemFn = syn::parse2(item)?;
    let timeout = timeout_of(args)?;
    if function.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            function.sig.fn_token,
            "#[cyclone::test] needs an `async fn`",
        ));
    }
    if !function.sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &function.sig.inputs,
            "#[cyclone::test] functions take no arguments",
        ));
    }
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    sig.asyncness = None;
    let timeout = match timeout {
        Some(seconds) => quote!(::core::option::Option::Some(
            ::core::time::Duration::from_secs_f64(#seconds)
        )),
        None => quote!(::core::option::Option::None),
    };
    Ok(quote! {
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis #sig {
            ::cyclone::testing::run_test(#timeout, async move #block)
        }
    })
}

/// `timeout = N` from the attribute's arguments, in seconds.
fn timeout_of(args: proc_macro2::TokenStream) -> syn::Result<Option<f64>> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut timeout = None;
    for meta in metas {
        let Meta::NameValue(pair) = &meta else {
            return Err(syn::Error::new_spanned(
                meta,
                "expected `timeout = SECONDS`",
            ));
        };
        if !pair.path.is_ident("timeout") {
            return Err(syn::Error::new_spanned(
                &pair.path,
                "the only argument is `timeout`",
            ));
        }
        let seconds = match &pair.value {
            Expr::Lit(ExprLit {
                lit: Lit::Int(int), ..
            }) => int.base10_parse::<f64>()?,
            Expr::Lit(ExprLit {
                lit: Lit::Float(float),
                ..
            }) => float.base10_parse::<f64>()?,
            other => {
                return Err(syn::Error::new_spanned(other, "a number of seconds"));
            }
        };
        timeout = Some(seconds);
    }
    Ok(timeout)
}
