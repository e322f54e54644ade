// All that minimatch (which msal-angular 1.x uses for protectedResourceMap globs) reads of
// Node's path module: the separator. In a browser it is "/", as in the browserify path module
// that the Angular CLI's webpack 4 gave it.
export const sep = "/";
