/** `import url from './x.json?gzip'`: the URL of the gzip-compressed file (vite.config.ts). */
declare module '*?gzip' {
  const url: string;
  export default url;
}
