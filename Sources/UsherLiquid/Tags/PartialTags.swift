/// Shared parsing of `include`/`render` markup: `'name' [with|for expr] [as alias] [, key: value]*`.
struct PartialArguments: Sendable {
    let name: Expr
    let variable: Expr?
    let isFor: Bool
    let alias: String?
    let keywords: [(String, Expr)]

    static func parse(_ p: LiquidTagParser, usage: String) throws(LiquidSyntaxError) -> PartialArguments {
        var m = try p.markupParser()
        if m.atEnd { throw p.error("\(p.tagName) needs a template name: \(usage)") }
        let (name, _) = try m.parseExpression()
        var variable: Expr?
        var isFor = false
        if m.keyword("with") {
            variable = try m.parseExpression().0
        } else if m.keyword("for") {
            variable = try m.parseExpression().0
            isFor = true
        }
        var alias: String?
        if m.keyword("as") {
            let t = try m.consume(.identifier, "a variable name after 'as'")
            alias = m.text(t)
        }
        let keywords = try m.parseKeywordArguments(p.tagName)
        return PartialArguments(name: name, variable: variable, isFor: isFor, alias: alias, keywords: keywords)
    }

    /// The variable a partial sees its `with`/`for` value as: the alias, or the last path segment of its name.
    func variableName(for templateName: String) -> String {
        if let alias { return alias }
        return templateName.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? templateName
    }
}

extension LiquidRenderContext {
    /// Loads and parses a partial through the environment's template source (cached per render,
    /// and across renders when the environment has a ``LiquidPartialCache``).
    mutating func loadPartial(_ name: String, tag: String) throws -> LiquidTemplate {
        if let cached = shared.partials[name] { return cached }
        guard let source = environment.templateSource else {
            throw LiquidRenderError(.templateNotFound, "cannot \(tag) '\(name)': no template source is configured")
        }
        let text: String?
        do { text = try source.templateSource(named: name) } catch { throw LiquidRenderError.wrapping(error) }
        guard let text else {
            throw LiquidRenderError(.templateNotFound, "\(tag): template '\(name)' not found")
        }
        if let cache = environment.partialCache, let t = cache.template(named: name, source: text) {
            shared.partials[name] = t
            return t
        }
        let template: LiquidTemplate
        do {
            template = try LiquidTemplate.parse(text, environment: environment, name: name)
        } catch {
            var e = LiquidRenderError(.partialSyntax, "\(tag) '\(name)': \(error.description)")
            e.underlyingSyntaxError = error
            throw e
        }
        environment.partialCache?.store(template, named: name, source: text)
        shared.partials[name] = template
        return template
    }

    mutating func enterPartial() throws(LiquidRenderError) {
        partialDepth += 1
        if partialDepth > limits.maxPartialDepth {
            throw LiquidRenderError(
                .limitExceeded(.partialDepth),
                "partials nested deeper than \(limits.maxPartialDepth) levels (does a partial include itself?)")
        }
    }

    /// Renders `template`'s body as a partial: errors inside it are reported against its name and lines.
    mutating func renderPartialBody(_ template: LiquidTemplate, into output: inout String) throws {
        let savedName = templateName
        let savedSource = currentSource
        templateName = template.name
        currentSource = template.lineIndex
        defer {
            templateName = savedName
            currentSource = savedSource
        }
        try template.root.renderNested(&self, into: &output)
    }
}

/// `{% include 'name' %}`: renders a partial in the current scope (it sees and can change variables).
final class IncludeTag: LiquidNode {
    let arguments: PartialArguments

    init(arguments: PartialArguments) {
        self.arguments = arguments
    }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        if context.isolated {
            throw LiquidRenderError(.disallowedTag, "include is not allowed inside a template rendered with 'render'")
        }
        let nameValue = try arguments.name.evaluate(&context)
        guard let name = nameValue.stringValue else {
            throw LiquidRenderError(.argument, "include needs a template name, got \(LiquidValue.inspect(nameValue))")
        }
        let partial = try context.loadPartial(name, tag: "include")
        let variableName = arguments.variableName(for: name)
        let variable: LiquidValue
        if let v = arguments.variable {
            variable = try v.evaluate(&context)
        } else {
            variable = try context.variable(name) ?? .nil
        }
        try context.enterPartial()
        let mark = context.pushScope()
        defer {
            context.popScope(mark)
            context.partialDepth -= 1
        }
        for (key, expr) in arguments.keywords {
            context.bind(key, try expr.evaluate(&context))
        }
        let slot = context.bind(variableName, .nil)
        if case .array(let items) = variable {
            for item in items {
                context.rebind(slot, item)
                try context.renderPartialBody(partial, into: &output)
                if case .none = context.interrupt {} else { break }
            }
        } else {
            context.rebind(slot, variable)
            try context.renderPartialBody(partial, into: &output)
        }
    }

    static let definition = LiquidTag("include") { p throws(LiquidSyntaxError) in
        IncludeTag(arguments: try PartialArguments.parse(p, usage: "{% include 'name' %}"))
    }
}

/// `{% render 'name' %}`: renders a partial in a fresh scope. It sees the render's globals, its
/// keyword arguments and its `with`/`for` value, but not the caller's assigned or loop variables,
/// and nothing it assigns leaks out.
final class RenderTag: LiquidNode {
    let arguments: PartialArguments
    let templateName: String

    init(arguments: PartialArguments, templateName: String) {
        self.arguments = arguments
        self.templateName = templateName
    }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        let partial = try context.loadPartial(templateName, tag: "render")
        let variableName = arguments.variableName(for: templateName)
        var keywordValues: [(String, LiquidValue)] = []
        for (key, expr) in arguments.keywords { keywordValues.append((key, try expr.evaluate(&context))) }
        let variable = try arguments.variable?.evaluate(&context) ?? .nil
        try context.enterPartial()
        defer { context.partialDepth -= 1 }

        func renderOnce(_ value: LiquidValue, forloop: ForloopDrop?, _ output: inout String) throws {
            var inner = context.isolatedSubcontext()
            if let forloop { inner.assign("forloop", .drop(forloop)) }
            for (k, v) in keywordValues { inner.assign(k, v) }
            if !value.isNil { inner.assign(variableName, value) }
            try inner.renderPartialBody(partial, into: &output)
        }

        if arguments.isFor {
            let items: LoopItems?
            switch variable {
            case .array, .hash, .range: items = try LoopItems.slice(variable, from: 0, to: nil)
            case .drop(let d):
                if let m = try VariableLookup.materialize(d), case .array = m {
                    items = try LoopItems.slice(m, from: 0, to: nil)
                } else {
                    items = nil
                }
            default: items = nil
            }
            if let items {
                let forloop = ForloopDrop(name: templateName, length: items.count, parent: nil)
                for i in 0..<items.count {
                    try context.countLoopIteration()
                    try renderOnce(items.item(i), forloop: forloop, &output)
                    forloop.index0 = i + 1
                }
                return
            }
        }
        try renderOnce(variable, forloop: nil, &output)
    }

    static let definition = LiquidTag("render") { p throws(LiquidSyntaxError) in
        let arguments = try PartialArguments.parse(p, usage: "{% render 'name' %}")
        guard case .literal(.string(let name)) = arguments.name else {
            throw p.error("render needs a quoted template name, e.g. {% render 'footer' %} (use include for a name in a variable)")
        }
        return RenderTag(arguments: arguments, templateName: name)
    }
}
