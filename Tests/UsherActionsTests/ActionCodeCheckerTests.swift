import Testing
import UsherActions

/// Syntax checks on save: line and column as an editor shows them (1-based).
@Suite struct ActionCodeCheckerTests {
    @Test func validCodeHasNoErrors() {
        #expect(ActionCodeChecker.check(Fixtures.seedAction).isEmpty)
        // CommonJS allows a top-level return, like Node's module wrapper.
        #expect(ActionCodeChecker.check("if (true) return;\nexports.onExecutePostLogin = async () => {};").isEmpty)
    }

    @Test(arguments: [
        ("let a = 1;\nlet b = ;\n", 2, 9, "Unexpected token ';'"),
        ("foo bar", 1, 5, "Unexpected identifier 'bar'"),
        (
            "exports.onExecutePostLogin = async (event, api) => {\n  if (x {\n  }\n};", 2, 9,
            "Unexpected token '{'. Expected ')' to end an 'if' condition."
        ),
        ("const x = 1;\nconst x = 2;", 2, 7, "Cannot declare a const variable twice: 'x'."),
        ("// ünïcödé\r\n  let 🙂 = 1;", 2, 7, "Invalid character '\\ud83d'"),
    ])
    func errorsArePositioned(code: String, line: Int, column: Int, message: String) {
        let errors = ActionCodeChecker.check(code)
        #expect(errors == [ActionCompileError(line: line, column: column, message: message)])
    }

    @Test func unterminatedCodePointsAtItsEnd() {
        let errors = ActionCodeChecker.check("exports.onExecutePostLogin = async (event, api) => {\n  api.x(")
        #expect(errors.count == 1)
        #expect(errors.first?.line == 2)
        #expect(errors.first?.column == 9)
    }
}
