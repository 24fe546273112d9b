//! `validator <root>`: an independent (syn-based) list of every fn item in the `*.rs` files
//! under `<root>`, with the outer doc attributes rustc would attach to it.
//!
//! Used to measure the tree-sitter extractor's coverage and doc accuracy; it shares no code
//! with it. Output is JSON lines on stdout, one object per line, each with a `"type"`:
//!
//! - `fn`: one function item (see `FnRecord` below for the fields);
//! - `parse_error`: a file syn could not parse (skipped);
//! - `read_error`: a file that could not be read or is not UTF-8 (skipped);
//! - `verbatim`: syntax syn 1 kept as raw tokens (fns inside it are not listed);
//! - `summary`: last line, counts.
//!
//! Line numbers are 1-based. `line` is the line of the first token of the fn item *after* its
//! outer attributes and doc comments: the visibility if any, else `default`, `const`, `async`,
//! `unsafe`, `extern`, or `fn`, whichever comes first. That is where tree-sitter's
//! `function_item` / `function_signature_item` node starts.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream, TokenTree};
use serde_json::{json, Value};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{AttrStyle, Attribute, Ident, Signature, Visibility};

/// What a fn item's container is.
#[derive(Clone, Copy)]
enum Kind {
    Free,
    Impl { of_trait: bool },
    Trait,
    Extern,
}

/// Walks one parsed file, collecting fn items and verbatim (unparsed) syntax.
struct FnCollector<'a> {
    rel_path: &'a str,
    /// The file's lines (BOM removed), to tell `///`, `/** */` and `#[doc]` apart by span.
    lines: Vec<&'a str>,
    /// How many fn bodies enclose the current position.
    fn_depth: usize,
    /// Whether the impl block being walked implements a trait.
    impl_of_trait: Vec<bool>,
    out: Vec<Value>,
}

impl<'a> FnCollector<'a> {
    /// The source text starting at a span's start (chars, as proc-macro2 counts columns).
    fn text_at(&self, span: Span) -> String {
        let start = span.start();
        match self.lines.get(start.line.wrapping_sub(1)) {
            Some(line) => line.chars().skip(start.column).take(4).collect(),
            None => String::new(),
        }
    }

    /// Classify and extract one outer doc attribute; `None` if it is not `doc = ...`.
    fn doc_fragment(&self, attr: &Attribute) -> Option<(Value, &'static str)> {
        if attr.style != AttrStyle::Outer || !attr.path.is_ident("doc") {
            return None;
        }
        let mut tokens = attr.tokens.clone().into_iter();
        match tokens.next() {
            Some(TokenTree::Punct(p)) if p.as_char() == '=' => {}
            // #[doc(hidden)], #[doc(alias = ..)], #[doc] ... are not doc text.
            _ => return None,
        }
        let rest: TokenStream = tokens.collect();
        let head = self.text_at(attr.pound_token.span);
        let kind = if head.starts_with("///") {
            "line"
        } else if head.starts_with("/**") {
            "block"
        } else if head.starts_with('#') {
            "attr"
        } else {
            "unknown"
        };
        let value = match syn::parse2::<syn::LitStr>(rest.clone()) {
            Ok(lit) => Value::String(lit.value()),
            Err(_) => json!({ "unresolved": rest.to_string() }),
        };
        Some((value, kind))
    }

    /// Record one fn item.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        attrs: &[Attribute],
        vis: Option<&Visibility>,
        defaultness: Option<Span>,
        sig: &Signature,
        end: Span,
        kind: Kind,
        has_body: bool,
    ) {
        let start = first_token_span(vis, defaultness, sig);
        let mut fragments = Vec::new();
        let mut kinds = Vec::new();
        let mut cfg_attr_docs = 0usize;
        for attr in attrs {
            if let Some((value, k)) = self.doc_fragment(attr) {
                fragments.push(value);
                kinds.push(Value::String(k.to_string()));
            } else if attr.style == AttrStyle::Outer
                && attr.path.is_ident("cfg_attr")
                && mentions_doc_eq(&attr.tokens)
            {
                cfg_attr_docs += 1;
            }
        }
        let first_outer_attr = attrs
            .iter()
            .filter(|a| a.style == AttrStyle::Outer)
            .map(|a| a.pound_token.span.start().line)
            .min();
        let (kind_name, trait_impl) = match kind {
            Kind::Free => ("free", false),
            Kind::Impl { of_trait } => ("impl", of_trait),
            Kind::Trait => ("trait", false),
            Kind::Extern => ("extern", false),
        };
        let ident: &Ident = &sig.ident;
        self.out.push(json!({
            "type": "fn",
            "path": self.rel_path,
            "line": start.start().line,
            "column": start.start().column,
            "end_line": end.end().line,
            "attr_line": first_outer_attr,
            "name": ident.unraw().to_string(),
            "raw": ident.to_string().starts_with("r#"),
            "kind": kind_name,
            "trait_impl": trait_impl,
            "nested": self.fn_depth > 0,
            "has_body": has_body,
            "doc_fragments": fragments,
            "doc_kinds": kinds,
            "cfg_attr_docs": cfg_attr_docs,
        }));
    }

    /// Note syntax syn kept as raw tokens: fns inside it are invisible to this validator.
    fn verbatim(&mut self, what: &str, tokens: &TokenStream) {
        let span = tokens
            .clone()
            .into_iter()
            .next()
            .map(|t| t.span())
            .unwrap_or_else(Span::call_site);
        self.out.push(json!({
            "type": "verbatim",
            "path": self.rel_path,
            "what": what,
            "line": span.start().line,
            "contains_fn": contains_fn(tokens),
        }));
    }
}

/// The span of the first token after the attributes.
fn first_token_span(vis: Option<&Visibility>, defaultness: Option<Span>, sig: &Signature) -> Span {
    if let Some(v) = vis {
        if !matches!(v, Visibility::Inherited) {
            return v.span();
        }
    }
    if let Some(d) = defaultness {
        return d;
    }
    if let Some(t) = &sig.constness {
        return t.span;
    }
    if let Some(t) = &sig.asyncness {
        return t.span;
    }
    if let Some(t) = &sig.unsafety {
        return t.span;
    }
    if let Some(abi) = &sig.abi {
        return abi.extern_token.span;
    }
    sig.fn_token.span
}

/// Whether a `cfg_attr(...)` token stream carries a `doc = ...` (conditional doc text).
fn mentions_doc_eq(tokens: &TokenStream) -> bool {
    let flat: Vec<TokenTree> = tokens
        .clone()
        .into_iter()
        .flat_map(|t| match t {
            TokenTree::Group(g) => g.stream().into_iter().collect::<Vec<_>>(),
            other => vec![other],
        })
        .collect();
    flat.windows(2).any(|w| {
        matches!(&w[0], TokenTree::Ident(i) if i == "doc")
            && matches!(&w[1], TokenTree::Punct(p) if p.as_char() == '=')
    })
}

/// Whether a token stream contains a `fn` keyword at any depth.
fn contains_fn(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == "fn",
        TokenTree::Group(g) => contains_fn(&g.stream()),
        _ => false,
    })
}

impl<'a, 'ast> Visit<'ast> for FnCollector<'a> {
    fn visit_item_fn(&mut self, i: &'ast syn::ItemFn) {
        let end = i.block.brace_token.span;
        self.record(&i.attrs, Some(&i.vis), None, &i.sig, end, Kind::Free, true);
        self.fn_depth += 1;
        visit::visit_item_fn(self, i);
        self.fn_depth -= 1;
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.impl_of_trait.push(i.trait_.is_some());
        visit::visit_item_impl(self, i);
        self.impl_of_trait.pop();
    }

    fn visit_impl_item_method(&mut self, i: &'ast syn::ImplItemMethod) {
        let end = i.block.brace_token.span;
        let of_trait = self.impl_of_trait.last().copied().unwrap_or(false);
        let default = i.defaultness.map(|d| d.span);
        self.record(
            &i.attrs,
            Some(&i.vis),
            default,
            &i.sig,
            end,
            Kind::Impl { of_trait },
            true,
        );
        self.fn_depth += 1;
        visit::visit_impl_item_method(self, i);
        self.fn_depth -= 1;
    }

    fn visit_trait_item_method(&mut self, i: &'ast syn::TraitItemMethod) {
        let (end, has_body) = match (&i.default, &i.semi_token) {
            (Some(block), _) => (block.brace_token.span, true),
            (None, Some(semi)) => (semi.spans[0], false),
            (None, None) => (i.sig.span(), false),
        };
        self.record(&i.attrs, None, None, &i.sig, end, Kind::Trait, has_body);
        self.fn_depth += 1;
        visit::visit_trait_item_method(self, i);
        self.fn_depth -= 1;
    }

    fn visit_foreign_item_fn(&mut self, i: &'ast syn::ForeignItemFn) {
        let end = i.semi_token.spans[0];
        self.record(
            &i.attrs,
            Some(&i.vis),
            None,
            &i.sig,
            end,
            Kind::Extern,
            false,
        );
        visit::visit_foreign_item_fn(self, i);
    }

    fn visit_item(&mut self, i: &'ast syn::Item) {
        if let syn::Item::Verbatim(ts) = i {
            self.verbatim("item", ts);
        }
        visit::visit_item(self, i);
    }

    fn visit_impl_item(&mut self, i: &'ast syn::ImplItem) {
        if let syn::ImplItem::Verbatim(ts) = i {
            self.verbatim("impl_item", ts);
        }
        visit::visit_impl_item(self, i);
    }

    fn visit_trait_item(&mut self, i: &'ast syn::TraitItem) {
        if let syn::TraitItem::Verbatim(ts) = i {
            self.verbatim("trait_item", ts);
        }
        visit::visit_trait_item(self, i);
    }

    fn visit_foreign_item(&mut self, i: &'ast syn::ForeignItem) {
        if let syn::ForeignItem::Verbatim(ts) = i {
            self.verbatim("foreign_item", ts);
        }
        visit::visit_foreign_item(self, i);
    }

    fn visit_expr(&mut self, i: &'ast syn::Expr) {
        if let syn::Expr::Verbatim(ts) = i {
            self.verbatim("expr", ts);
        }
        visit::visit_expr(self, i);
    }
}

/// `text` with every C-string literal (`c"..."`, `cr#"..."#`) turned into a plain `"   "`
/// string of the same shape: prefix and contents become spaces, newlines are kept, so every
/// span elsewhere is unchanged. Purely textual (a `c"` inside another string or a comment is
/// treated the same way), so only used as a fallback for files that otherwise fail to parse;
/// such files are reported as `patched`.
fn blank_c_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = chars.clone();
    let mut i = 0;
    while i < chars.len() {
        let prev_is_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if chars[i] != 'c' || prev_is_ident {
            i += 1;
            continue;
        }
        // Work out the opening quote and the closing delimiter.
        let (quote, hashes, raw) = if chars.get(i + 1) == Some(&'"') {
            (i + 1, 0, false)
        } else if chars.get(i + 1) == Some(&'r') {
            let mut j = i + 2;
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                i += 1;
                continue;
            }
            (j, j - (i + 2), true)
        } else {
            i += 1;
            continue;
        };
        let mut j = quote + 1;
        let close = loop {
            match chars.get(j) {
                None => break None,
                Some('\\') if !raw => j += 2,
                Some('"') if (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) => break Some(j),
                Some(_) => j += 1,
            }
        };
        let Some(close) = close else { break };
        // c r # # " ... " # #  ->  spaces, `"`, spaces, `"`, spaces
        out[i..quote].fill(' ');
        for k in quote + 1..close {
            if chars[k] != '\n' && chars[k] != '\r' {
                out[k] = ' ';
            }
        }
        out[close + 1..close + 1 + hashes].fill(' ');
        i = close + 1 + hashes;
    }
    out.into_iter().collect()
}

/// All `*.rs` files under `root`, sorted, skipping symlinks and `.git`.
fn rust_files(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let ft = entry.file_type()?; // does not follow symlinks
            let path = entry.path();
            if ft.is_symlink() {
                continue;
            }
            if ft.is_dir() {
                if entry.file_name() != ".git" {
                    stack.push(path);
                }
            } else if ft.is_file() && path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn rel(root: &Path, path: &Path) -> String {
    let r = path.strip_prefix(root).unwrap_or(path);
    r.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 2 || args[1].starts_with('-') {
        eprintln!("usage: validator <root>   (JSON lines on stdout)");
        std::process::exit(2);
    }
    let root = PathBuf::from(&args[1]);
    let files = match rust_files(&root) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("validator: cannot walk {}: {e}", root.display());
            std::process::exit(2);
        }
    };
    let stdout = io::stdout();
    let mut w = BufWriter::new(stdout.lock());
    let (mut n_fns, mut n_parse_err, mut n_read_err, mut n_verbatim) = (0usize, 0, 0, 0);
    for path in &files {
        let rel_path = rel(&root, path);
        let text = match fs::read(path).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                n_read_err += 1;
                let v = json!({"type": "read_error", "path": rel_path, "message": "not UTF-8"});
                writeln!(w, "{v}").unwrap();
                continue;
            }
            Err(e) => {
                n_read_err += 1;
                let v = json!({"type": "read_error", "path": rel_path, "message": e.to_string()});
                writeln!(w, "{v}").unwrap();
                continue;
            }
        };
        // proc-macro2 1.0.47 / syn 1 predate C-string literals (c"..", Rust 1.77); on a parse
        // error, retry with them blanked (same shape, so every other span is unchanged).
        let mut patched = false;
        let parsed = syn::parse_file(&text).or_else(|e| {
            let blanked = blank_c_strings(&text);
            if blanked != text {
                patched = true;
                syn::parse_file(&blanked).map_err(|_| e)
            } else {
                Err(e)
            }
        });
        if patched {
            let v = json!({"type": "patched", "path": rel_path,
                           "message": "C-string literals blanked to parse with syn 1"});
            writeln!(w, "{v}").unwrap();
        }
        let file = match parsed {
            Ok(f) => f,
            Err(e) => {
                n_parse_err += 1;
                let s = e.span().start();
                let v = json!({"type": "parse_error", "path": rel_path, "message": e.to_string(),
                               "line": s.line, "column": s.column});
                writeln!(w, "{v}").unwrap();
                continue;
            }
        };
        // syn::parse_file strips a BOM before lexing, so columns count from after it.
        let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut c = FnCollector {
            rel_path: &rel_path,
            lines: body.split('\n').collect(),
            fn_depth: 0,
            impl_of_trait: Vec::new(),
            out: Vec::new(),
        };
        c.visit_file(&file);
        for v in &c.out {
            match v["type"].as_str() {
                Some("fn") => n_fns += 1,
                Some("verbatim") => n_verbatim += 1,
                _ => {}
            }
            writeln!(w, "{v}").unwrap();
        }
    }
    let v = json!({"type": "summary", "files": files.len(), "fns": n_fns,
                   "parse_errors": n_parse_err, "read_errors": n_read_err,
                   "verbatim": n_verbatim});
    writeln!(w, "{v}").unwrap();
    w.flush().unwrap();
}
