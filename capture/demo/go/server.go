// Demo TLS server on Go's crypto/tls: with Go >= 1.23 it negotiates the hybrid post-quantum key
// exchange (X25519Kyber768Draft00 in 1.23, X25519MLKEM768 from 1.24) with Go clients by default.
package main

import (
	"crypto/tls"
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	addr, cert, key := os.Args[1], os.Args[2], os.Args[3]
	srv := &http.Server{
		Addr: addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello from go %s over %s\n", r.TLS.ServerName, tls.VersionName(r.TLS.Version))
		}),
	}
	log.Fatal(srv.ListenAndServeTLS(cert, key))
}
