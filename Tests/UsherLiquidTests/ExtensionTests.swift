import Testing
import UsherLiquid

/// Custom tags and filters registered by the host.
@Suite("Extensions")
struct ExtensionTests {
    /// `{% shout expr %}…{% endshout %}`: renders the body upper-cased, prefixed by the expression.
    final class ShoutNode: LiquidNode {
        let prefix: LiquidExpression
        let body: LiquidBlockBody

        init(prefix: LiquidExpression, body: LiquidBlockBody) {
            self.prefix = prefix
            self.body = body
        }

        func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
            var inner = ""
            try body.render(&context, into: &inner)
            output += try prefix.evaluate(&context).description + inner.uppercased()
        }
    }

    static var environment: LiquidEnvironment {
        var env = LiquidEnvironment()
        env.register(
            filter: LiquidFilter("reverse_words", arity: 0...1) { input, args, _ in
                let separator = args.positional.first?.description ?? " "
                return .string(input.description.split(separator: " ").reversed().joined(separator: separator))
            })
        env.register(
            filter: LiquidFilter("mask", arity: 0...0) { input, args, _ in
                let text = input.description
                guard let at = text.firstIndex(of: "@") else { return input }
                return .string(String(text.prefix(1)) + "***" + String(text[at...]))
            })
        env.register(
            tag: LiquidTag("shout") { parser throws(LiquidSyntaxError) in
                let prefix = try parser.parseFilteredExpression()
                let (body, _) = try parser.parseBody(endTag: "endshout")
                return ShoutNode(prefix: prefix, body: body)
            })
        env.register(
            tag: LiquidTag("tenant_banner") { parser throws(LiquidSyntaxError) in
                guard parser.markup.isEmpty else { throw parser.error("tenant_banner takes no arguments") }
                return SlotLikeNode()
            })
        return env
    }

    final class SlotLikeNode: LiquidNode {
        func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
            let name = try context.variable("tenant") ?? "unknown"
            output += "[\(name)]"
        }
    }

    @Test func customFilters() {
        let env = Self.environment
        #expect(TestSupport.render("{{ 'a b c' | reverse_words }}", environment: env) == "c b a")
        #expect(TestSupport.render("{{ 'a b c' | reverse_words: '-' }}", environment: env) == "c-b-a")
        #expect(TestSupport.render("{{ email | mask }}", ["email": "ana@example.com"], environment: env) == "a***@example.com")
        #expect(TestSupport.render("{{ 'a' | mask: 1 }}", environment: env) == "RENDER: line 1: filter 'mask' takes no arguments (1 given)")
    }

    @Test func overridingAStandardFilter() {
        var env = LiquidEnvironment()
        env.register(filter: LiquidFilter("upcase", arity: 0...0) { input, _, _ in .string("UP:" + input.description) })
        #expect(TestSupport.render("{{ 'x' | upcase }}", environment: env) == "UP:x")
    }

    @Test func customBlockTag() {
        let env = Self.environment
        let out = TestSupport.render(
            "{% shout greeting | append: ': ' %}hello {{ name }}{% endshout %}!", ["greeting": "Hey", "name": "ana"], environment: env)
        #expect(out == "Hey: HELLO ANA!")
        #expect(
            TestSupport.render("{% shout 'x' %}unclosed", environment: env)
                == "SYNTAX: line 1, column 4: 'shout' tag was never closed; expected '{% endshout %}'")
        #expect(TestSupport.render("{% shout 'x' %}{% endshuot %}", environment: env).contains("did you mean 'endshout'?"))
    }

    @Test func customSimpleTag() {
        let env = Self.environment
        #expect(TestSupport.render("{% tenant_banner %}", ["tenant": "acme"], environment: env) == "[acme]")
        #expect(TestSupport.render("{% tenant_banner x %}", environment: env) == "SYNTAX: line 1, column 4: tenant_banner takes no arguments")
    }

    @Test func removingATag() {
        var env = LiquidEnvironment()
        env.unregister(tag: "include")
        #expect(TestSupport.render("{% include 'x' %}", environment: env).hasPrefix("SYNTAX: line 1, column 4: unknown tag 'include'"))
    }
}
