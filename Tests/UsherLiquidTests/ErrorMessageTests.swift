import Testing
import UsherLiquid

/// Syntax errors must point at the right line and column and say something a template author can act on.
@Suite("Error messages")
struct ErrorMessageTests {
    func syntaxError(_ source: String, environment: LiquidEnvironment = LiquidEnvironment()) -> LiquidSyntaxError? {
        do {
            _ = try LiquidTemplate.parse(source, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test func unknownEndTagSuggestsTheRightOne() throws {
        let source = "Hello\n{% if user %}\n  Welcome {% endfi %}\n"
        let error = try #require(syntaxError(source))
        #expect(error.line == 3)
        #expect(error.column == 14)
        #expect(error.message == "unknown tag 'endfi'; did you mean 'endif'?")
        #expect(error.description == "line 3, column 14: unknown tag 'endfi'; did you mean 'endif'?")
    }

    @Test func unknownTagSuggestsARegisteredTag() throws {
        let error = try #require(syntaxError("{% asign x = 1 %}"))
        #expect(error.description == "line 1, column 4: unknown tag 'asign'; did you mean 'assign'?")
        let none = try #require(syntaxError("{% frobnicate %}"))
        #expect(none.message == "unknown tag 'frobnicate'")
    }

    @Test func unclosedBlockPointsAtTheOpener() throws {
        let error = try #require(syntaxError("line one\n  {% for x in xs %}\n{{ x }}"))
        #expect(error.line == 2)
        #expect(error.column == 6)
        #expect(error.message == "'for' tag was never closed; expected '{% endfor %}'")
    }

    @Test func mismatchedEndTag() throws {
        let error = try #require(syntaxError("{% if a %}\n{% for x in xs %}{% endif %}{% endfor %}"))
        #expect(error.line == 2)
        #expect(error.message.hasPrefix("'endif' does not close 'for' (opened on line 2); expected '{% endfor %}'"))
    }

    @Test func strayEndAndElse() throws {
        #expect(syntaxError("{% endif %}")?.message == "unexpected 'endif': there is no open 'if' block")
        #expect(syntaxError("a {% else %} b")?.message == "unexpected 'else' outside of 'if', 'unless', 'case' or 'for'")
        #expect(syntaxError("{% capture x %}{% else %}{% endcapture %}")?.message == "'else' is not allowed inside 'capture' (opened on line 1)")
    }

    @Test func expressionErrorsHaveExactColumns() throws {
        let star = try #require(syntaxError("{% assign x = 2 %}\n{{ x * 3 }}"))
        #expect(star.line == 2)
        #expect(star.column == 6)
        #expect(star.message == "unexpected character '*'")
        let word = try #require(syntaxError("{{ product.title upcase }}"))
        #expect(word.column == 18)
        #expect(word.message == "unexpected 'upcase' in this expression")
        let string = try #require(syntaxError("{{ 'unterminated }}"))
        #expect(string.message == "string literal is not closed")
        let notOp = try #require(syntaxError("{% if not user %}x{% endif %}"))
        #expect(notOp.message == "'not' is not a Liquid operator; use 'unless' or '!='")
    }

    @Test func unterminatedOutputAndTag() throws {
        #expect(syntaxError("Hi {{ name")?.message.contains("was never closed with '}}'") == true)
        #expect(syntaxError("Hi {% if x")?.message == "tag '{%' was never closed with '%}'")
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let error = try #require(syntaxError("¡Olé! {% endfi %}"))
        #expect(error.column == 10)
    }

    @Test func strictFiltersSuggestAName() throws {
        var env = LiquidEnvironment()
        env.strictFilters = true
        let error = try #require(syntaxError("{{ name | upcsae }}", environment: env))
        #expect(error.description == "line 1, column 11: unknown filter 'upcsae'; did you mean 'upcase'?")
        // Without strict filters an unknown filter passes its input through, as in Shopify Liquid.
        #expect(TestSupport.render("{{ 'a' | upcsae }}") == "a")
    }

    @Test func renderErrorsCarryTheLine() throws {
        let template = try LiquidTemplate.parse("ok\n\n{{ 10 | divided_by: 0 }}")
        do {
            _ = try template.render()
            Issue.record("expected a render error")
        } catch {
            #expect(error.kind == .zeroDivision)
            #expect(error.line == 3)
            #expect(error.description == "line 3: divided by 0")
        }
    }

    @Test func strictVariables() throws {
        var env = LiquidEnvironment()
        env.strictVariables = true
        let template = try LiquidTemplate.parse("{{ user.name }}\n{{ user.nmae }}", environment: env)
        do {
            _ = try template.render(["user": ["name": "Ana"]])
            Issue.record("expected an undefined variable error")
        } catch {
            #expect(error.kind == .undefinedVariable)
            #expect(error.line == 2)
            #expect(error.message.contains("'nmae'"))
        }
        #expect(TestSupport.render("{{ user.nmae }}", ["user": ["name": "Ana"]]) == "")
    }

    @Test func partialErrorsNameThePartial() throws {
        var env = LiquidEnvironment()
        env.templateSource = LiquidInMemoryTemplateSource(["footer": "ok\n{% if x %}"])
        let template = try LiquidTemplate.parse("{% include 'footer' %}", environment: env)
        do {
            _ = try template.render()
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .partialSyntax)
            #expect(error.underlyingSyntaxError?.templateName == "footer")
            #expect(error.underlyingSyntaxError?.line == 2)
        }
    }

    @Test func rigidSyntaxRejectsWhatRubyIgnores() throws {
        var env = LiquidEnvironment()
        env.rigidSyntax = true
        #expect(syntaxError("{% case x %}{% when 'a' and 'b' %}{% endcase %}", environment: env) != nil)
        #expect(syntaxError("{% if x %}{% else junk %}{% endif %}", environment: env)?.message == "'else' takes no condition (use 'elsif')")
        #expect(syntaxError("{% case x %}{% when 'a' and 'b' %}{% endcase %}") == nil)
    }
}
