/// UsherLiquid: a Liquid template engine compatible with Shopify's Ruby Liquid (5.12), for the
/// emails and hosted pages Usher renders for Auth0-style tenants. No dependencies beyond Foundation.
///
/// ## Using it
/// ```swift
/// var env = LiquidEnvironment()                      // standard tags and filters
/// env.templateSource = LiquidInMemoryTemplateSource(["footer": "…"])
/// env.timeZone = tenantTimeZone                      // for `date`
/// let template = try env.parse(source)               // LiquidSyntaxError: line, column, message
/// let text = try template.render(LiquidContext([
///     "user": .drop(userDrop),                       // lazy host object
///     "application": ["name": "Acme"],
/// ]))                                                // LiquidRenderError, never a trap
/// ```
/// A ``LiquidTemplate`` is immutable and `Sendable`: parse once, cache, render from any task.
///
/// ## Semantics worth knowing
/// - **Compatibility.** Output matches Shopify Liquid 5.12 on all 1,054 golden-liquid cases:
///   Ruby truthiness (only `nil`/`false` are falsy), Ruby's integer/float rules (floats are exact
///   decimals in math filters; integer division floors), `Float#to_s` printing, whitespace
///   control and the dropping of whitespace-only blocks. Parsing is Liquid's strict mode; with
///   ``LiquidEnvironment/rigidSyntax`` also the stricter "strict2" reading of `case`/`when`/`else`.
///   Integers are 64-bit: where Ruby would switch to a bignum, the result becomes a float.
///   `date` reads the common date formats (ISO 8601, RFC 2822, "March 14, 2016", "14/03/2016",
///   Unix timestamps, `now`/`today`), not every string Ruby's `Time.parse` accepts.
/// - **Scopes.** `assign`/`capture` write the template's top scope. `include` shares the caller's
///   scope. `render` starts clean: it sees the render's globals (``LiquidContext/globals``), its
///   keyword arguments and its `with`/`for` value, not the caller's assigned or loop variables,
///   and `include` is refused inside it (as in Ruby Liquid).
/// - **Escaping.** As in Liquid, escaping is explicit (`| escape`). Hosted pages can turn on
///   ``LiquidEnvironment/autoEscape``: every `{{ }}`/`echo` output is HTML-escaped unless the value
///   is marked safe, which is the case for ``LiquidValue/safe(_:)`` values from the host, the
///   results of `escape`/`escape_once`/`safe`/`raw`, and `capture` results (already rendered,
///   hence already escaped). Filters other than those return plain strings, which are escaped.
/// - **Auth0 page tags.** `{%- auth0:head -%}` and `{%- auth0:widget -%}` write the host's HTML
///   from ``LiquidContext/slots`` unescaped (nothing when absent). Check that a page template uses
///   them with ``LiquidTemplate/usedTags``. Register more slots with ``LiquidTag/slot(_:)``.
/// - **layout.** `{% layout 'name', key: value %}` takes the rest of the template as the child;
///   `{% block name %}…{% endblock %}` in the child fill the same-named blocks of the layout, the
///   child's other output fills the layout's anonymous `{% block %}`; see ``LayoutTag``.
/// - **Extensions.** ``LiquidEnvironment/register(filter:)`` and ``LiquidEnvironment/register(tag:)``;
///   built-in tags use the same ``LiquidTag``/``LiquidTagParser`` API.
/// - **Limits.** ``LiquidLimits`` bounds template size, nesting, output, loop iterations, partial
///   depth, render time, collection sizes and string building; exceeding one is a
///   ``LiquidRenderError`` of kind `.limitExceeded`.
public enum UsherLiquid {
    /// The Shopify Liquid version whose behaviour this engine reproduces.
    public static let referenceLiquidVersion = "5.12.0"
}
