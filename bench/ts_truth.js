// Ground truth for bench/context_recall.py on TypeScript/JavaScript: which project
// definitions each line inside a function body uses, as the TypeScript compiler's type
// checker resolves them (independent of edgewise's tree-sitter queries).
//
// stdin:  {"typescript": "<path to the typescript package>", "files": ["/abs/a.ts", ...]}
// stdout: [{"file", "line", "indent", "refs": [{"start", "end", "name", "file", "line", "kind"}]}]
// Lines and columns are 0-based; columns count UTF-16 code units (JS string indices).
"use strict";

const fs = require("fs");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const ts = require(input.typescript);

const files = input.files;
const inProject = new Set(files);
const program = ts.createProgram(files, {
  allowJs: true,
  checkJs: false,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ESNext,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  noResolve: false,
});
const checker = program.getTypeChecker();
const K = ts.SyntaxKind;

function isFunctionLike(node) {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  );
}

function insideFunction(node) {
  for (let p = node.parent; p; p = p.parent) if (isFunctionLike(p)) return true;
  return false;
}

// A definition edgewise is meant to find: a declaration of the project that is not local.
function definitionKind(decl) {
  if (!decl || !inProject.has(decl.getSourceFile().fileName)) return null;
  if (ts.isFunctionDeclaration(decl)) return insideFunction(decl) ? null : "function";
  if (ts.isClassDeclaration(decl)) return insideFunction(decl) ? null : "class";
  if (ts.isInterfaceDeclaration(decl)) return "interface";
  if (ts.isTypeAliasDeclaration(decl)) return "type";
  if (ts.isEnumDeclaration(decl)) return "enum";
  if (ts.isMethodDeclaration(decl) || ts.isMethodSignature(decl)) return "method";
  if (ts.isGetAccessorDeclaration(decl) || ts.isSetAccessorDeclaration(decl)) return "method";
  if (ts.isPropertyDeclaration(decl) || ts.isPropertySignature(decl)) return "field";
  if (ts.isVariableDeclaration(decl)) {
    const statement = decl.parent && decl.parent.parent;
    if (statement && ts.isVariableStatement(statement) && ts.isSourceFile(statement.parent))
      return "constant";
  }
  return null;
}

// Like the Python ground truth: names the code refers to directly — free names, members
// of `this`, members of an imported namespace or of a class named in the code — not
// members reached through the type of a value (`observer.next`), which needs inference.
function directlyNamed(identifier) {
  const parent = identifier.parent;
  if (parent && ts.isPropertyAccessExpression(parent) && parent.name === identifier) {
    const target = parent.expression;
    if (target.kind === K.ThisKeyword || target.kind === K.SuperKeyword) return true;
    if (!ts.isIdentifier(target)) return false;
    const symbol = checker.getSymbolAtLocation(target);
    if (!symbol) return false;
    const flags = symbol.flags;
    return Boolean(flags & (ts.SymbolFlags.Alias | ts.SymbolFlags.Class | ts.SymbolFlags.Enum | ts.SymbolFlags.ValueModule));
  }
  if (parent && ts.isQualifiedName(parent) && parent.right === identifier) return true;
  if (parent && (ts.isPropertyAssignment(parent) || ts.isShorthandPropertyAssignment(parent)) && parent.name === identifier)
    return ts.isShorthandPropertyAssignment(parent);
  return true;
}

function resolve(identifier) {
  let symbol = checker.getSymbolAtLocation(identifier);
  if (!symbol) return null;
  if (symbol.flags & ts.SymbolFlags.Alias) {
    try {
      symbol = checker.getAliasedSymbol(symbol);
    } catch (e) {
      return null;
    }
  }
  const decl = (symbol.declarations || [])[0];
  const kind = definitionKind(decl);
  if (!kind) return null;
  const source = decl.getSourceFile();
  const nameNode = decl.name || decl;
  const at = source.getLineAndCharacterOfPosition(nameNode.getStart(source));
  return { name: symbol.getName(), file: source.fileName, line: at.line, kind };
}

const out = [];
for (const file of files) {
  const source = program.getSourceFile(file);
  if (!source) continue;
  const text = source.getFullText();
  const lineStarts = source.getLineStarts();
  const bodyLines = new Set();
  const headerLines = new Set();
  const refs = new Map();
  function visit(node) {
    if (isFunctionLike(node) && node.body && ts.isBlock(node.body)) {
      const open = source.getLineAndCharacterOfPosition(node.body.getStart(source)).line;
      const close = source.getLineAndCharacterOfPosition(node.body.getEnd()).line;
      for (let l = open + 1; l < close; l++) bodyLines.add(l);
    }
    if (isFunctionLike(node) || ts.isClassDeclaration(node)) {
      headerLines.add(source.getLineAndCharacterOfPosition(node.getStart(source)).line);
    }
    if ((ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) && directlyNamed(node)) {
      const start = node.getStart(source);
      const at = source.getLineAndCharacterOfPosition(start);
      const end = source.getLineAndCharacterOfPosition(node.getEnd());
      if (at.line === end.line) {
        const target = resolve(node);
        if (target && !(target.file === file && target.line === at.line)) {
          if (!refs.has(at.line)) refs.set(at.line, []);
          refs.get(at.line).push({ start: at.character, end: end.character, ...target });
        }
      }
    }
    ts.forEachChild(node, visit);
  }
  visit(source);
  for (const [line, lineRefs] of refs) {
    if (!bodyLines.has(line) || headerLines.has(line)) continue;
    const lineText = text.slice(lineStarts[line], lineStarts[line + 1] || text.length);
    const trimmed = lineText.trim();
    if (!trimmed || trimmed.startsWith("//") || trimmed.startsWith("*")) continue;
    const indent = lineText.length - lineText.replace(/^[ \t]+/, "").length;
    out.push({ file, line, indent, refs: lineRefs });
  }
}
process.stdout.write(JSON.stringify(out));
