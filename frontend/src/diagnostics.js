// Reports Content-Security-Policy violations on the console. The policy
// (set by the server) should never be violated by the app itself: a report
// here is a bug, and the end-to-end tests fail on it.

export function reportPolicyViolations() {
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(
      `CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline content'}` +
        (e.sourceFile ? ` (${e.sourceFile}:${e.lineNumber})` : ''),
    );
  });
}
