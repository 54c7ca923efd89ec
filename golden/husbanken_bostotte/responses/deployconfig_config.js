// Constructed for atlas_crawl's golden test (not a capture): the two keys SOURCE-FACTS §9.1
// says statistikk.husbanken.no/deployconfig/config.js names. The real file's other content is
// unknown.
window.deployConfig = {
  qlikUrl: "https://qlik.husbanken.no/public/",
  qlikAppId: "ee185fe5-e94d-463e-bff8-cd1c5f2f566f"
};
