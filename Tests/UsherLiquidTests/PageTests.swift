import Foundation
import Testing
import UsherLiquid

/// Hosted-page features: auto-escape, Auth0's page tags and `layout`.
@Suite("Pages: auto-escape, auth0 tags, layout")
struct PageTests {
    static var pageEnvironment: LiquidEnvironment {
        var env = LiquidEnvironment()
        env.autoEscape = true
        return env
    }

    @Test func escapingIsExplicitByDefault() {
        #expect(TestSupport.render("{{ name }}|{{ name | escape }}", ["name": "<b>"]) == "<b>|&lt;b&gt;")
    }

    @Test func autoEscapeEscapesOutputUnlessSafe() {
        let env = Self.pageEnvironment
        let data: [String: LiquidValue] = ["name": "<b>Tom & \"Jerry\"</b>", "html": .safe("<i>ok</i>"), "n": 5, "list": ["<a>", "b"]]
        #expect(TestSupport.render("{{ name }}", data, environment: env) == "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;")
        #expect(TestSupport.render("{{ name | escape }}", data, environment: env) == "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;")
        #expect(TestSupport.render("{{ name | safe }}|{{ name | raw }}", data, environment: env) == "<b>Tom & \"Jerry\"</b>|<b>Tom & \"Jerry\"</b>")
        #expect(TestSupport.render("{{ html }}{{ n }}{{ list }}", data, environment: env) == "<i>ok</i>5&lt;a&gt;b")
        #expect(TestSupport.render("{% echo name %}", data, environment: env) == "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;")
        // Filters produce plain strings again, so their output is escaped.
        #expect(TestSupport.render("{{ html | upcase }}", data, environment: env) == "&lt;I&gt;OK&lt;/I&gt;")
        // Captured template output is already escaped and is not escaped twice.
        #expect(
            TestSupport.render("{% capture c %}<p>{{ name }}</p>{% endcapture %}{{ c }}", data, environment: env)
                == "<p>&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;</p>")
        // Template text and raw blocks are the author's HTML.
        #expect(TestSupport.render("<a>{% raw %}<{{x}}>{% endraw %}", data, environment: env) == "<a><{{x}}>")
    }

    @Test func auth0PageTagsWriteHostSlots() throws {
        let page = """
            <html><head>{%- auth0:head -%}</head>
            <body>{%- auth0:widget -%}</body></html>
            """
        let template = try LiquidTemplate.parse(page, environment: Self.pageEnvironment)
        #expect(template.usedTags.isSuperset(of: ["auth0:head", "auth0:widget"]))
        let out = try template.render(LiquidContext([:], slots: ["auth0:head": "<script src=\"/w.js\"></script>", "auth0:widget": "<div id=\"w\"></div>"]))
        #expect(out == "<html><head><script src=\"/w.js\"></script></head>\n<body><div id=\"w\"></div></body></html>")
        #expect(try template.render() == "<html><head></head>\n<body></body></html>")
        #expect(TestSupport.render("{% auth0:head x %}").hasPrefix("SYNTAX: line 1, column 4: 'auth0:head' takes no arguments"))
        #expect(TestSupport.render("{% auth0:footer %}").hasPrefix("SYNTAX: line 1, column 4: unknown tag 'auth0'"))
    }

    static var layoutEnvironment: LiquidEnvironment {
        var env = LiquidEnvironment()
        env.templateSource = LiquidInMemoryTemplateSource([
            "base":
                "<title>{% block title %}Default title{% endblock %}</title><main>{% block %}{% endblock %}</main><footer>{% block footer %}© {{ company }}{% endblock %}</footer>",
            "outer": "[{% block %}{% endblock %}]",
        ])
        return env
    }

    @Test func layoutFillsBlocksFromTheChild() {
        let child = """
            {% layout 'base', company: 'Acme' %}{% block title %}Welcome {{ name }}{% endblock %}Hello {{ name }}!
            """
        #expect(
            TestSupport.render(child, ["name": "Ana"], environment: Self.layoutEnvironment)
                == "<title>Welcome Ana</title><main>Hello Ana!</main><footer>© Acme</footer>")
    }

    @Test func layoutNoneAndMissingLayouts() {
        #expect(TestSupport.render("{% layout none %}plain {{ 1 }}", environment: Self.layoutEnvironment) == "plain 1")
        #expect(TestSupport.render("{% layout 'nope' %}x", environment: Self.layoutEnvironment) == "RENDER: line 1: layout: template 'nope' not found")
        #expect(
            TestSupport.render("{% if x %}{% layout 'base' %}{% endif %}", environment: Self.layoutEnvironment)
                == "SYNTAX: line 1, column 14: layout must be used at the top level of a template, not inside a block")
        #expect(TestSupport.render("{% block a %}shown without a layout{% endblock %}") == "shown without a layout")
    }

    @Test func layoutVariablesAndNesting() {
        let child = "{% assign who = 'Ana' %}{% layout 'outer' %}hi {{ who }}"
        #expect(TestSupport.render(child, environment: Self.layoutEnvironment) == "[hi Ana]")
    }
}
