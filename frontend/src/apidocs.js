// The API documentation page (/api/docs): Swagger UI, from the npm package
// swagger-ui-dist, renders the server's own OpenAPI document. Everything it
// needs is bundled here; it fetches nothing but /api/openapi and, with "Try it
// out", the API itself.
import SwaggerUIBundle from 'swagger-ui-dist/swagger-ui-bundle.js';

SwaggerUIBundle({
  url: '/api/openapi',
  dom_id: '#apidocs',
  // The default would send the document to validator.swagger.io.
  validatorUrl: null,
  deepLinking: true,
  // Long parameter lists (the incidents' filters) read better expanded.
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  tryItOutEnabled: false,
});
