//! `#[derive(Params)]`: a struct of differentiable fields as one parameter
//! set — its own gradient type, with what an optimiser needs.
//!
//! Every field must implement `autodiff::Params` (floats, ndarray arrays,
//! `Vec`s of floats, nested `#[derive(Params)]` structs), unless marked
//! `#[params(skip)]`: a constant (a hyper-parameter, a name), cloned into
//! zeros and gradients and left out of updates and of the flat view.

use crate::diagnostics;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

struct Field {
    member: syn::Member,
    ty: syn::Type,
    skip: bool,
}

pub fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    match expand(&input) {
        Ok(tokens) => tokens,
        Err(error) => error.into_compile_error(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            diagnostics::params_not_a_struct(),
        ));
    };
    let mut fields = Vec::new();
    for (index, field) in data.fields.iter().enumerate() {
        let mut skip = false;
        for attr in &field.attrs {
            if attr.path().is_ident("params") {
                attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("skip") {
                        skip = true;
                        Ok(())
                    } else {
                        Err(meta.error(diagnostics::params_attribute()))
                    }
                })?;
            }
        }
        let member = match &field.ident {
            Some(ident) => syn::Member::Named(ident.clone()),
            None => syn::Member::Unnamed(syn::Index::from(index)),
        };
        fields.push(Field {
            member,
            ty: field.ty.clone(),
            skip,
        });
    }
    let Some(first) = fields.iter().find(|field| !field.skip) else {
        return Err(syn::Error::new(
            input.ident.span(),
            diagnostics::params_no_field(),
        ));
    };
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let first_ty = &first.ty;
    let params = quote!(::autodiff::Params);
    let live: Vec<&Field> = fields.iter().filter(|field| !field.skip).collect();
    let members: Vec<&syn::Member> = live.iter().map(|field| &field.member).collect();
    // Each field's type checked to be a parameter set, at the field.
    let field_checks = live.iter().map(|field| {
        let ty = &field.ty;
        quote_spanned! {ty.span()=>
            const _: fn() = || {
                fn field_is_params<P: ::autodiff::Params>() {}
                field_is_params::<#ty>();
            };
        }
    });
    let construct = |live_value: &dyn Fn(&syn::Member) -> TokenStream| -> TokenStream {
        let inits = fields.iter().map(|field| {
            let member = &field.member;
            let value = if field.skip {
                quote!(::core::clone::Clone::clone(&self.#member))
            } else {
                live_value(member)
            };
            quote!(#member: #value)
        });
        match &data.fields {
            Fields::Unit => quote!(#name),
            _ => quote!(#name { #(#inits),* }),
        }
    };
    let zeros = construct(&|member| quote!(#params::zeros_like(&self.#member)));
    let element_arms = live.iter().map(|field| {
        let member = &field.member;
        quote! {
            let n = #params::num_elements(&self.#member);
            if i < n {
                return #params::element(&self.#member, i);
            }
            i -= n;
        }
    });
    let set_arms = live.iter().map(|field| {
        let member = &field.member;
        quote! {
            let n = #params::num_elements(&self.#member);
            if i < n {
                #params::set_element(&mut self.#member, i, value);
                return;
            }
            i -= n;
        }
    });
    let first_member = &first.member;
    let checks = quote!(#(#field_checks)*);
    Ok(quote! {
        #checks

        impl #impl_generics #params for #name #ty_generics #where_clause {
            type Scalar = <#first_ty as #params>::Scalar;
            fn zeros_like(&self) -> Self {
                #zeros
            }
            fn add_assign(&mut self, other: &Self) {
                #(#params::add_assign(&mut self.#members, &other.#members);)*
            }
            fn scale(&mut self, by: Self::Scalar) {
                #(#params::scale(&mut self.#members, by);)*
            }
            fn axpy(&mut self, a: Self::Scalar, x: &Self) {
                #(#params::axpy(&mut self.#members, a, &x.#members);)*
            }
            fn num_elements(&self) -> usize {
                0 #(+ #params::num_elements(&self.#members))*
            }
            fn element(&self, mut i: usize) -> f64 {
                #(#element_arms)*
                let _ = i;
                f64::NAN
            }
            fn set_element(&mut self, mut i: usize, value: f64) {
                #(#set_arms)*
                let _ = (i, value);
            }
            fn element_epsilon(&self) -> f64 {
                #params::element_epsilon(&self.#first_member)
            }
        }

        impl #impl_generics ::autodiff::Differentiable for #name #ty_generics #where_clause {
            type Tangent = Self;
            fn zero_tangent(&self) -> Self {
                #params::zeros_like(self)
            }
        }

        impl #impl_generics ::autodiff::Accumulate for #name #ty_generics #where_clause {
            fn accumulate(&mut self, rhs: Self) {
                #params::add_assign(self, &rhs);
            }
        }

        impl #impl_generics ::autodiff::__private::rules::IsGradient for #name #ty_generics #where_clause {}
    }
    .into_token_stream())
}
