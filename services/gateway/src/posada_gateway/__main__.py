from posada_gateway.main import main

main()
